"""A stand-in for GitHub's REST API, checked against GitHub's OpenAPI description (tests only)."""

from ghserver.server import ACTIONS_BOT, DEFAULT_TOKENS, Fault, GitHubStandIn, Token, User

__all__ = ["ACTIONS_BOT", "DEFAULT_TOKENS", "Fault", "GitHubStandIn", "Token", "User"]
