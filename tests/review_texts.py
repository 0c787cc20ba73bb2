"""Six short instrument reviews, hand-written, that the light extractor reads (a feature, an opinion, a
negation): the raw importers' and the Hub importer's tests build their review files from them."""

REVIEW_TEXTS = [
    "The strap is very sturdy. Shipping took a week.",
    "Great tone for the money! I play it daily.",
    "The strap was not comfortable at all.",
    "I bought it for my son. The tone is warm and rich.",
    "Awful tone, and the strap broke.",
    "Nice strap. Would buy again.",
]
