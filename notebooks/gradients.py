"""The figures, runs and sentences of notebooks/4_gradients.ipynb, parts 1-3: how far back the
gradient reaches, what clipping does, and what a longer truncation window buys."""
