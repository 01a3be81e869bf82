"""Treatment-place catalogues (就医地目录): dated items with class, 乙类 first self-pay share and price caps."""
