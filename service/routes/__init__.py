"""One router per resource; each handler validates, calls one service function and shapes the response."""
