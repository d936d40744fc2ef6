"""The AI gateway: an authenticated, rate-limited, guarded and audited proxy for model endpoints."""
