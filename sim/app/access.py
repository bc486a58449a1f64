"""Who is using the app, and what they may do with the shared library.

Three ways to run, chosen by the server's settings (docs/guides/deploying.md):

- **On your own machine** (nothing configured): one person, who may do everything.
- **Behind a login** (an ``[auth]`` section in Streamlit's secrets: Streamlit's OpenID Connect
  login, e.g. a council's Microsoft Entra ID or Google Workspace): everyone logs in first.
- **Behind a proxy that logs people in** (``ADOPTION_USER_HEADER``, e.g. ``X-Forwarded-Email``):
  the proxy's header says who each person is; a request without it is refused.

Behind a login or a proxy, *editors* (``ADOPTION_EDITORS``: their e-mail addresses, separated by
commas) save, rename and delete in the library; everyone else is a *viewer*, who opens saved
scenarios and comparisons and runs what they like in their own session but changes nothing that
others see.  With no editors named, nobody can change the library from the app."""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

EDITORS_ENV = "ADOPTION_EDITORS"
HEADER_ENV = "ADOPTION_USER_HEADER"


@dataclass(frozen=True)
class User:
    """A person using the app: who (for the library's 'saved by') and whether they may edit."""

    name: str
    email: str
    editor: bool

    @property
    def role(self) -> str:
        return "editor" if self.editor else "viewer"

    @property
    def signature(self) -> str:
        """How their saves are signed in the library."""
        return self.name if not self.email or self.name == self.email else f"{self.name} ({self.email})"


def login_configured() -> bool:
    """Whether Streamlit's OpenID Connect login is set up (an ``[auth]`` section in the secrets)."""
    try:
        return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets
    except Exception:  # secrets that cannot be read: Streamlit itself says why on the page
        return False


def user_header() -> str | None:
    """The proxy's header that names the person, if the app runs behind one."""
    return os.environ.get(HEADER_ENV) or None


def shared() -> bool:
    """Whether this server is shared (people log in), rather than one person's own."""
    return login_configured() or user_header() is not None


def editors() -> set[str]:
    """The e-mail addresses of the editors (lower case)."""
    return {e.strip().lower() for e in os.environ.get(EDITORS_ENV, "").split(",") if e.strip()}


def current_user() -> User | None:
    """Who is using the app (None: nobody has logged in yet, on a shared server)."""
    header = user_header()
    if header:
        email = (st.context.headers.get(header) or "").strip()
        return User(email, email, email.lower() in editors()) if email else None
    if login_configured():
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email") or "")
        name = str(st.user.get("name") or email or st.user.get("sub") or "")
        return User(name, email, bool(email) and email.lower() in editors())
    return User("", "", True)


def can_edit() -> bool:
    """Whether the person using the app may save, rename and delete in the library."""
    user = current_user()
    return user is not None and user.editor


def require_login() -> None:
    """On a shared server, stop the page until the person has logged in (with the login button),
    or say that the proxy did not name them; on one's own machine, nothing."""
    if not shared() or current_user() is not None:
        return
    st.title("Adoption pipeline planner")
    if user_header():
        st.error(f"This server expects the sign-in in front of it to name you (the {user_header()} header), and "
                 "it did not. Open the app through your organisation's sign-in, or ask its administrator.")
    else:
        st.write("Log in with your organisation's account to open the planner and its saved scenarios.")
        wanted = st.query_params.get("comparison")
        if wanted:
            st.info(f"You followed a link to saved comparison {wanted}. Logging in opens the planner's first "
                    f"page: open comparison {wanted} from its Library page.")
        st.button("Log in", on_click=st.login, type="primary")
    st.stop()


def draw_user() -> None:
    """Who is using the app, their role and the log-out button, in the sidebar (shared servers only)."""
    user = current_user()
    if not shared() or user is None:
        return
    with st.sidebar:
        st.caption(f"Signed in as {user.signature or 'unknown'}: {user.role}"
                   + ("" if user.editor else " (you can open saved work; editors save and delete)"))
        if login_configured() and not user_header():
            st.button("Log out", on_click=st.logout)
