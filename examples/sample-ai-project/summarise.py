"""Summarise support tickets (sample code: calls a provider nobody approved)."""

import anthropic


def summarise(ticket: str) -> str:
    reply = anthropic.Anthropic().messages.create(
        model="claude-3-5-haiku-latest",
        max_tokens=300,
        messages=[{"role": "user", "content": f"Summarise this support ticket: {ticket}"}],
    )
    return reply.content[0].text
