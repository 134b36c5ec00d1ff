"""Chat-completion backends for generating and judging training data.

``client`` talks to any OpenAI-compatible ``/v1/chat/completions`` endpoint (OpenAI, vLLM,
Ollama, llama.cpp server, TGI, ``transformers serve``) with retries, bounded concurrency, a
response cache and usage counters; ``local`` runs the local instruct LM behind the same
``complete_many`` interface; ``prompts`` holds the four generation and judging templates (by
default ours, after the paper's design) and ``prompt_files`` reads a user's set from a TOML
file or a folder. Plain Python: no Dagster here.
"""
