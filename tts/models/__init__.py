"""Model loading helpers shared by engines and critics (heavy imports happen inside functions)."""
