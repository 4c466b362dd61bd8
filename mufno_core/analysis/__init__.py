"""Estimates from stored trials: where the optimum sits (``optima``), what it means against the
theory and the paper (``verdicts``, ``paper``, ``summary``), whether the intervals cover
(``coverage``), the calibrated rule (``calibrate``), end-to-end transfer (``end_to_end``) and
whether a store reproduces on this machine (``reproduce``). Imports the core and ``sweep``."""
