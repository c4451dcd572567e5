"""Where the engine's events and finished call records go: the terminal summary, the
HTML report, the live console, the opt-in recorder."""
