"""The answer engine: one module per step, in the order a question takes them.

followup, kinds, parts, asks (what is asked) → search, candidates, evidence, ranking (the
sentences to read) → prompt (the request and its schema) → answer, pace (asking the model,
the stream) → verify, units, points, disagree (what may be shown) → confidence (answer or
abstain) → compose, phrasing (the Answer). engine holds what every question shares and the
events.
"""
