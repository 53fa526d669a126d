"""The per-item record of `items.jsonl`, as a JSON Schema other tools can read the bundle with."""

ITEM_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "dokja-bundle/1/item",
    "title": "Dokja per-item output",
    "description": "One benchmark item as one model answered it, in a stage's results bundle (items.jsonl, one "
                   "canonical JSON object per line).",
    "type": "object",
    "required": ["run", "model", "suite", "item", "item_sha256", "metrics", "score", "output"],
    "additionalProperties": False,
    "properties": {
        "run": {"type": "integer", "description": "the run's id in the office's store"},
        "model": {"type": "string", "description": "the model (a team's submission or a frontier reference)"},
        "suite": {"type": "string", "description": "the suite id"},
        "item": {"type": "string", "description": "the item's id within the suite"},
        "item_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                        "description": "SHA-256 of the item's canonical JSON (prompt, choices, answer): it "
                                       "commits to a sealed suite's item without showing it"},
        "metrics": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "every metric of the item (empty when the item failed)"},
        "score": {"type": ["number", "null"], "description": "the suite's primary metric, the one the decision used"},
        "output": {"type": "object", "description": "what the model produced: per-choice `logprobs` (with "
                   "`greedy`, `n_tokens`) for log-likelihood scoring, or the generated `output` (with "
                   "`extracted`, `letter` or `judge`), and the `method`"},
        "target": {"type": "object", "description": "public suites only: the `choices` and the `answer`, so the "
                   "score can be recomputed from the log-likelihoods; for generated answers the whole `item` "
                   "and its `scoring` (scorer, regex), so the score can be recomputed from the answer's text",
                   "properties": {"choices": {"type": "array", "items": {"type": "string"}}, "answer": {},
                                  "item": {"type": "object"}, "scoring": {"type": "object"}}},
    },
}
