"""Prompt variants: the ways an evaluation asks the same question (flexibility, the seed study's
fourth criterion), and the reference each is scored against.

    VARIANTS["pt-br"].user_template        # 'Escreva a descrição do livro "{title}".'
    variant_reference(VARIANTS["summary"], content)   # the description's first sentence

core/compare/evaluate.py runs an evaluation under any of them; the spread of a model's scores across the
variants is its flexibility (core/compare/results.py). Each variant carries its label and note in English
and pt-BR because the results page, the CLI and the xlsx export all show them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptVariant:
    """One way of asking. ``user_template`` None keeps the model's own training template (the
    seed's fine-tunes were trained on the bare title). ``reference`` says what the answer is
    scored against: ``content`` (the full description) or ``first_sentence`` (its first sentence,
    at most 40 words: the reference for a one-line summary)."""

    name: str
    label_en: str
    label_pt: str
    user_template: str | None
    system_prompt: str | None
    reference: str
    note_en: str
    note_pt: str


VARIANTS: dict[str, PromptVariant] = {v.name: v for v in (
    PromptVariant("default", "As trained (the title)", "Como no treino (o título)", None, None, "content",
                  "The prompt the model was trained with (the seed used the bare title); reference: the description.",
                  "O prompt do treino (o estudo original usou só o título); referência: a descrição."),
    PromptVariant("question", "Question", "Pergunta", 'What is the book "{title}" about?', None, "content",
                  "The same task asked as a question; reference: the description.",
                  "A mesma tarefa feita como pergunta; referência: a descrição."),
    PromptVariant("instruction", "Instruction", "Instrução",
                  'Write the description of the book titled "{title}" for an online bookstore.', None, "content",
                  "The same task as an explicit instruction; reference: the description.",
                  "A mesma tarefa como instrução explícita; referência: a descrição."),
    PromptVariant("pt-br", "Portuguese question", "Pergunta em português",
                  'Escreva a descrição do livro "{title}".', None, "content",
                  "The question in Brazilian Portuguese; the reference stays the English description, so an "
                  "answer in Portuguese loses on ROUGE/chrF/BLEU; MiniLM (English-trained) only partly bridges "
                  "languages: compare models with each other here, not with the English variants.",
                  "A pergunta em português do Brasil; a referência continua a descrição em inglês, então uma "
                  "resposta em português perde em ROUGE/chrF/BLEU; o MiniLM (treinado em inglês) só em parte "
                  "aproxima idiomas: compare os modelos entre si aqui, não com as variantes em inglês."),
    PromptVariant("summary", "One-line summary", "Resumo em uma linha",
                  'Summarize the book "{title}" in one sentence.', None, "first_sentence",
                  "A different task: a one-sentence summary; reference: the description's first sentence "
                  "(at most 40 words), so long answers lose on length ratio and precision.",
                  "Outra tarefa: um resumo de uma frase; referência: a primeira frase da descrição (até 40 "
                  "palavras), então respostas longas perdem em razão de tamanho e precisão."),
)}


def first_sentence(text: str, max_words: int = 40) -> str:
    text = " ".join((text or "").split())
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“])", text)
    sentence = text[: match.start()] if match else text
    words = sentence.split()
    return " ".join(words[:max_words])


def variant_reference(variant: PromptVariant, content: str) -> str:
    return first_sentence(content) if variant.reference == "first_sentence" else content
