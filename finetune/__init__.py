"""Fine-tuning edurag's generators: LoRA, prompt tuning, full fine-tune and PPO detox, each writing a manifest."""
