"""Commands that orchestrate several rooms (check, status, config check); one function each."""
