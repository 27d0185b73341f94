"""Observe -> plan -> outbox -> apply (DESIGN.md §3): the pure planner, the durable outbox, the
executor that turns outbox rows into connector bulk calls, and the run that ties them together.
"""
