"""Questions teachers ask about the standards themselves (POST /ask, `edurag ask`): intents and graph-grounded answers."""

from edurag.ask.answer import Answer, AskedStandard, ask
from edurag.ask.intents import INTENTS, IntentDetector

__all__ = ["INTENTS", "Answer", "AskedStandard", "IntentDetector", "ask"]
