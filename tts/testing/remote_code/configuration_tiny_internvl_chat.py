"""Config of the tiny remote-code InternVL-Chat model (field names as in the original checkpoints)."""

from transformers import InternVLVisionConfig, PretrainedConfig, Qwen2Config


class TinyInternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"

    def __init__(self, vision_config=None, llm_config=None, force_image_size=56, downsample_ratio=0.5,
                 template="internvl2_5", max_dynamic_patch=6, min_dynamic_patch=1, use_thumbnail=True,
                 dynamic_image_size=True, select_layer=-1, ps_version="v2", **kwargs):
        super().__init__(**kwargs)
        if isinstance(vision_config, dict) or vision_config is None:
            vision_config = InternVLVisionConfig(**(vision_config or {}))
        if isinstance(llm_config, dict) or llm_config is None:
            llm_config = Qwen2Config(**(llm_config or {}))
        self.vision_config = vision_config
        self.llm_config = llm_config
        self.force_image_size = force_image_size
        self.downsample_ratio = downsample_ratio
        self.template = template
        self.max_dynamic_patch = max_dynamic_patch
        self.min_dynamic_patch = min_dynamic_patch
        self.use_thumbnail = use_thumbnail
        self.dynamic_image_size = dynamic_image_size
        self.select_layer = select_layer
        self.ps_version = ps_version
        self.tie_word_embeddings = getattr(llm_config, "tie_word_embeddings", False)

    def to_dict(self):
        out = super().to_dict()
        out["vision_config"] = self.vision_config.to_dict()
        out["llm_config"] = self.llm_config.to_dict()
        return out
