"""Cost of the text guards per request, on ordinary chat prompts and answers.

    .venv/bin/python benchmarks/guard/run.py [--repeat 200] [--size 3000]

The corpus is generated here: ordinary prompts and answers (coding questions with
code, writing requests, questions with a few numbers and names, a little Spanish and
German), cut or joined to about ``--size`` characters each, with nothing a guard
should act on. Each guard runs ``--repeat`` times per text in this process; the
tables give the median wall time per call (milliseconds) of each guard and of the
default input and output chains, and the median CPU time of the chains (thread time).
The normalisation cache is cleared before every call, so each figure includes the
normalisation a chain pays once per text. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from ramparts.guard import (
    CanaryGuard,
    ExfiltrationGuard,
    Guard,
    GuardContext,
    HtmlGuard,
    InjectionGuard,
    PiiGuard,
    Role,
    SecretGuard,
    SizeGuard,
    ToolArgumentGuard,
    default_input_guards,
    default_output_guards,
    make_canary,
    run_guards,
)
from ramparts.guard.normalize import normalize

PROMPTS = [
    (
        "I'm preparing a presentation for our quarterly business review next week and I need "
        "help structuring it. The audience is mostly senior leadership, so it should be "
        "concise. We grew revenue about 12% compared to last quarter, but churn went up "
        "slightly in the enterprise segment. Can you suggest an outline with six or seven "
        "slides, and a short speaker note for each one? What is a good way to present bad "
        "news without sounding defensive?"
    ),
    (
        "Can you explain how Python's asyncio event loop works? I keep getting RuntimeError: "
        "This event loop is already running when I call asyncio.run() inside a notebook.\n\n"
        "```python\nimport asyncio\n\nasync def fetch(i):\n    await asyncio.sleep(0.1)\n"
        "    return i * 2\n\nasync def main():\n    results = await asyncio.gather(*(fetch(i) "
        "for i in range(10)))\n    print(results)\n\nasyncio.run(main())\n```\n"
    ),
    (
        "Write a short story about a lighthouse keeper who discovers that the light has been "
        "guiding ships that don't exist. Make it atmospheric and a little eerie, set on the "
        "coast of Maine in the late 1800s, with the smell of kerosene and the sound of the "
        "foghorn."
    ),
    (
        "What are the main differences between PostgreSQL and MySQL for a write-heavy "
        "workload? We expect around 5,000 inserts per second and need point-in-time recovery."
    ),
    (
        "Please review this SQL and tell me why it is slow:\n\nSELECT o.id, c.name, SUM(i.price) "
        "FROM orders o JOIN customers c ON c.id = o.customer_id JOIN items i ON i.order_id = "
        "o.id WHERE o.created_at > now() - interval '30 days' GROUP BY o.id, c.name;"
    ),
    (
        "Summarise the following meeting notes in five bullet points: the team agreed to move "
        "the launch to March, marketing needs the final copy by the 14th, the budget for "
        "paid ads stays the same, and support will hire two more people."
    ),
    (
        "¿Puedes explicarme la diferencia entre aprendizaje supervisado y no supervisado con "
        "ejemplos sencillos?"
    ),
    "Kannst du mir erklären, wie ich in Python eine Liste nach dem zweiten Element sortiere?",
    (
        "How do I configure nginx as a reverse proxy for a Node.js app on port 3000 with "
        "HTTPS? I'd like HTTP to redirect to HTTPS and WebSocket support for /socket."
    ),
    (
        "Translate into French: The instructions for the new coffee machine are on the "
        "counter; please read them before using it for the first time."
    ),
]
ANSWERS = [
    (
        "Here is an outline for your review:\n\n1. **Headline results**: revenue up 12% "
        "quarter on quarter.\n2. **Where we grew**: mid-market and the new dashboard.\n3. "
        "**Churn in enterprise**: what happened and why.\n4. **What we are doing about it**.\n"
        "5. **New features**: reporting dashboard, Slack integration.\n6. **Next quarter**.\n\n"
        "For bad news, lead with the facts, own them, and move quickly to the plan."
    ),
    (
        "The error happens because Jupyter already runs an event loop. Inside a notebook, "
        "await the coroutine directly:\n\n```python\nresults = await main()\n```\n\nOutside "
        "notebooks, `asyncio.run(main())` is right. See the asyncio documentation at "
        "https://docs.python.org/3/library/asyncio-task.html for details."
    ),
    (
        "The fog came in at dusk, as it always did in November, and Elias trimmed the wick "
        "by the light of a storm lantern. The smell of kerosene clung to his coat."
    ),
    (
        "PostgreSQL handles write-heavy workloads well with WAL tuning; MySQL with InnoDB is "
        "also capable. For point-in-time recovery, both support continuous archiving."
    ),
]


def corpus(texts: Sequence[str], size: int) -> list[str]:
    """Each text repeated (with the next ones) up to about ``size`` characters."""
    out = []
    for i in range(len(texts)):
        text, j = "", i
        while len(text) < size:
            text += texts[j % len(texts)] + "\n\n"
            j += 1
        out.append(text[:size])
    return out


def median_ms(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and thread-CPU milliseconds of ``call``."""
    walls, cpus = [], []
    for _ in range(repeat):
        normalize.cache_clear()
        w0, c0 = time.perf_counter(), time.thread_time()
        call()
        cpus.append(time.thread_time() - c0)
        walls.append(time.perf_counter() - w0)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args()
    prompts, answers = corpus(PROMPTS, args.size), corpus(ANSWERS, args.size)
    canary = make_canary()
    user = GuardContext(role=Role.USER)
    answer = GuardContext(role=Role.ASSISTANT, canaries=(canary,), system_prompt=PROMPTS[0])
    call = GuardContext(role=Role.TOOL_CALL)
    singles: list[tuple[Guard, list[str], GuardContext]] = [
        (SizeGuard(), prompts, user),
        (InjectionGuard(), prompts, user),
        (SecretGuard(), prompts, user),
        (PiiGuard(), prompts, user),
        (ToolArgumentGuard(), ['{"city": "Paris", "days": 3, "q": "museums"}'], call),
        (CanaryGuard(), answers, answer),
        (ExfiltrationGuard(), answers, answer),
        (HtmlGuard(), answers, answer),
    ]
    print("| guard | texts | median ms per call (wall) |\n|---|---|---|")
    for guard, texts, ctx in singles:
        times = [
            median_ms(lambda t=t, g=guard, c=ctx: g.check(t, c), args.repeat)[0] for t in texts
        ]
        print(f"| {guard.name} | {len(texts)} | {statistics.median(times):.3f} |")
    print("\n| chain | median ms wall | median ms CPU |\n|---|---|---|")
    for label, chain, texts, ctx in (
        ("default input", default_input_guards(), prompts, user),
        ("default output", default_output_guards(), answers, answer),
    ):
        pairs = [
            median_ms(lambda t=t, g=chain, c=ctx: run_guards(g, t, c), args.repeat) for t in texts
        ]
        wall = statistics.median(p[0] for p in pairs)
        cpu = statistics.median(p[1] for p in pairs)
        print(f"| {label} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
