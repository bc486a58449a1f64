"""What planners, finance and boards read: levers, paired comparisons, the recruitment target finder,
finance tables, charts, exports and model notes. The app (`app.py`) is a thin page over these.
"""
