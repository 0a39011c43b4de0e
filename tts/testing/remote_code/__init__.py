"""A tiny model in the original InternVL-Chat remote-code layout (config ``internvl_chat`` + ``auto_map``).

These two files are copied into a checkpoint directory by ``save_pretrained`` and loaded back with
``trust_remote_code=True``, exactly like ``OpenGVLab/InternVL3-8B``. They implement the interface that
ttscale relies on (``extract_feature``, ``language_model``, ``num_image_token``, ``img_context_token_id``,
the config's tiling fields) with our own code on top of transformers' InternVL vision tower and Qwen2.
"""
