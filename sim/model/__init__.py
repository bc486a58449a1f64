"""One replication of the adoption pipeline: adopter households from enquiry to placement, children from
care proceedings to adoption order, the panel, matching, interagency fees, the month-by-month timeline of
dated changes, the starting stocks, and the census and tallies that become the scorecard measures.
"""
