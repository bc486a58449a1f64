"""From a published report to a calibrated scenario: targets files, the agency's size, the fit, the
`calibrate` command, fit reports, and validation by back test and by leaving figures out.
"""
