"""Model of the tiny remote-code InternVL-Chat checkpoint: vision tower → pixel shuffle → MLP → Qwen2."""

import torch
from torch import nn
from transformers import InternVLVisionModel, PreTrainedModel, Qwen2ForCausalLM

from .configuration_tiny_internvl_chat import TinyInternVLChatConfig


class TinyInternVLChatModel(PreTrainedModel):
    config_class = TinyInternVLChatConfig
    base_model_prefix = ""
    main_input_name = "pixel_values"
    _no_split_modules = ["InternVLVisionLayer", "Qwen2DecoderLayer"]

    def __init__(self, config):
        super().__init__(config)
        self._build(config)
        self.post_init()

    def _build(self, config):
        self.image_size = config.force_image_size
        patch = config.vision_config.patch_size
        patch = patch[0] if isinstance(patch, (list, tuple)) else patch
        self.downsample_ratio = config.downsample_ratio
        self.num_image_token = int((self.image_size // patch) ** 2 * config.downsample_ratio**2)
        self.template = config.template
        self.system_message = getattr(config, "system_message", None)
        self.img_context_token_id = None
        self.vision_model = InternVLVisionModel(config.vision_config)
        self.language_model = Qwen2ForCausalLM(config.llm_config)
        vit, llm = config.vision_config.hidden_size, config.llm_config.hidden_size
        scale = int(1 / config.downsample_ratio) ** 2
        self.mlp1 = nn.Sequential(nn.LayerNorm(vit * scale), nn.Linear(vit * scale, llm), nn.GELU(), nn.Linear(llm, llm))

    def pixel_shuffle(self, x, scale):
        n, w, h, c = x.shape
        x = x.reshape(n, w, int(h * scale), int(c / scale)).permute(0, 2, 1, 3).contiguous()
        x = x.reshape(n, int(h * scale), int(w * scale), int(c / (scale * scale))).permute(0, 2, 1, 3).contiguous()
        return x

    def extract_feature(self, pixel_values):
        hidden = self.vision_model(pixel_values=pixel_values).last_hidden_state[:, 1:, :]
        side = int(hidden.shape[1] ** 0.5)
        hidden = self.pixel_shuffle(hidden.reshape(hidden.shape[0], side, side, -1), self.downsample_ratio)
        return self.mlp1(hidden.reshape(hidden.shape[0], -1, hidden.shape[-1]))

    def _merge(self, pixel_values, input_ids):
        embeds = self.language_model.get_input_embeddings()(input_ids)
        if pixel_values is not None:
            feats = self.extract_feature(pixel_values).reshape(-1, embeds.shape[-1]).to(embeds.dtype)
            mask = (input_ids == self.img_context_token_id).unsqueeze(-1).expand_as(embeds)
            embeds = embeds.masked_scatter(mask, feats)
        return embeds

    def forward(self, pixel_values=None, input_ids=None, attention_mask=None, **kwargs):
        return self.language_model(inputs_embeds=self._merge(pixel_values, input_ids), attention_mask=attention_mask, **kwargs)

    @torch.no_grad()
    def generate(self, pixel_values=None, input_ids=None, attention_mask=None, **kwargs):
        return self.language_model.generate(inputs_embeds=self._merge(pixel_values, input_ids),
                                            attention_mask=attention_mask, **kwargs)


class TinyInternVLChatModelWithoutPostInit(TinyInternVLChatModel):
    """The same model whose ``__init__`` never calls ``self.post_init()``, as the InternVL-Chat files on the hub
    (InternVL3, InternVL3.5, VisualPRM) were written before InternVL's fix eecca2a (#1100). Under transformers 5
    such a class has no ``all_tied_weights_keys`` and ``from_pretrained`` fails on it."""

    def __init__(self, config):
        PreTrainedModel.__init__(self, config)
        self._build(config)
