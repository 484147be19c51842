"""Chaos suite: the real `serve` process against faulty fake platforms, crashes and outages."""
