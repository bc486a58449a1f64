"""What a scenario is: parameters with units, valid ranges and sources; the calendar of financial years;
dated changes and trends; reading, checking and saving scenario files; parameter sets; uploads.

Nothing here imports the rest of `sim`: a scenario can be read and checked without the model.
"""
