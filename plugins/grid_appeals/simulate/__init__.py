"""Source-system simulator: plays 95598, marketing, metering and business halls.

Everything is a pure function of ``(seed, date)`` (plus a static world derived from the seed and
the scale), so one date can be regenerated without touching any other, and two runs with the same
seed produce byte-identical sources. Ground truth goes to a separate database the pipeline never
reads. Entry point: :func:`grid_appeals.simulate.runner.simulate`.
"""
