"""Training judge versions from pairs: labels, feedback, the corpus itself.

``pairs`` builds (query, what the judge reads, label) triples and needs nothing beyond glossdb;
``lora`` fine-tunes the judge model with a LoRA adapter and needs the ``train`` extra
(torch, transformers, peft: ``pip install 'glossdb[train]'``); ``export`` writes the adapter
as a GGUF file that llama.cpp loads at search time, so a search never imports torch.
"""
