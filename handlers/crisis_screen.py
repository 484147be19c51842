def is_crisis(text: str) -> bool:
    return any(w in text for w in ("想死", "kill myself", "自殺"))
