"""KPIs: SQL aggregates (metrics), anonymisation, snapshots, digest and report, chart."""
