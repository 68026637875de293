"""Intake: which files in the drop directories are data, when they are complete, and what a bad one becomes."""
