"""Data files (rules, lexicons, grammar tables) shipped inside the package."""
