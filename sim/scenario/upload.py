"""A scenario file given by a user (uploaded or pasted), validated with a clear message.

Whatever arrives — wrong encoding, not TOML, unknown fields, values out of range — becomes
a :class:`~sim.scenario.files.ScenarioError` naming the file and the field, never a traceback.
A file from the browser reads nothing else on the server: it may extend a shipped scenario or a file
uploaded in the same session, and name only the shipped calibrations' files.
The rules are those of a file on the command line (:mod:`sim.scenario.files`): the same size
limit (:data:`~sim.scenario.files.MAX_BYTES`, 200 kB, for uploaded bytes and for pasted text
alike, measured in UTF-8 bytes), and a leading byte order mark accepted in both.
"""

from __future__ import annotations

from sim.scenario.files import MAX_BYTES, ScenarioError, parse_scenario
from sim.scenario.parameters import Scenario


def read_scenario_text(data: bytes | str, source: str = "uploaded file", uploads: dict[str, str] | None = None
                       ) -> Scenario:
    """Validate a scenario given as file contents (bytes from an upload, or pasted text), confined to
    the shipped scenarios and calibrations and the files uploaded in the same session (``uploads``:
    name to text), see :func:`sim.scenario.files.parse_scenario`."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        raise ScenarioError(f"{source}: too large for a scenario file ({size / 1000:,.0f} kB; the limit is "
                            f"{MAX_BYTES / 1000:,.0f} kB, {MAX_BYTES:,} bytes)")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ScenarioError(f"{source}: not a text file (a scenario is TOML text in UTF-8)") from None
    return parse_scenario(data, source, confined=True, uploads=uploads)
