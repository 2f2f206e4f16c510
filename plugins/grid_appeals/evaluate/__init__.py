"""Evaluation against the simulator's ground truth (``sim_truth``): never imported by the pipeline."""
