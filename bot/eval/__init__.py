"""Measuring answer quality: labelled question sets, metrics, calibration."""
