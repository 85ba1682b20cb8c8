"""UI text of the playground page (side by side and blind arena), English and Portuguese (pt-BR)."""

TEXT: dict[str, tuple[str, str]] = {
    "playground.title": ("Playground", "Playground"),
    "playground.intro": (
        "Ask 2 to 4 models the same question and compare their answers, speed and cost side by side — "
        "or vote blind in the arena.",
        "Faça a mesma pergunta a 2 a 4 modelos e compare respostas, velocidade e custo lado a lado — "
        "ou vote às cegas na arena.",
    ),
    "playground.mode": ("Mode", "Modo"),
    "playground.mode_side": ("Side by side", "Lado a lado"),
    "playground.mode_arena": ("Blind arena", "Arena às cegas"),
    "playground.prompt_source": ("Prompt", "Prompt"),
    "playground.source_free": ("Type a prompt", "Digitar um prompt"),
    "playground.source_example": ("Test example", "Exemplo de teste"),
    "playground.prompt": ("Prompt (a book title, in the seed study)", "Prompt (um título de livro, no estudo original)"),
    "playground.prompt_placeholder": ("e.g. The Hobbit: or There and Back Again", "ex.: O Hobbit: Lá e de Volta Outra Vez"),
    "playground.dataset": ("Curated dataset", "Dataset curado"),
    "playground.dataset_help": (
        "The built-in seed-study split, or a curation saved on page 1 (name@version).",
        "O split embutido seed-study, ou uma curadoria salva na página 1 (nome@versão).",
    ),
    "playground.example": ("Test example", "Exemplo de teste"),
    "playground.example_help": ("Which example of the test split: 1 to {total}, counted from 1 as on page 2.",
                                "Qual exemplo do split de teste: de 1 a {total}, contando a partir de 1 como na "
                                "página 2."),
    "playground.arena_checkpoints": ("Include checkpoints", "Incluir checkpoints"),
    "playground.arena_checkpoints_help": (
        "Fine-tunes register a model at every saved step; the arena leaves these checkpoints out unless you "
        "include them here.",
        "Os ajustes finos registram um modelo a cada passo salvo; a arena deixa esses checkpoints de fora, a "
        "menos que você os inclua aqui."),
    "playground.random_example": ("Random", "Sortear"),
    "playground.reference": ("Reference answer (the dataset's content)", "Resposta de referência (o conteúdo do dataset)"),
    "playground.example_title": ("Title (sent as the prompt)", "Título (enviado como prompt)"),
    "playground.models": ("Models (2 to 4)", "Modelos (2 a 4)"),
    "playground.models_help": (
        "Every registered model: the bundled SmolLM2, local fine-tunes and their checkpoints, OpenAI models and "
        "fine-tunes, OpenAI-compatible endpoints (add one below or with `python -m core models add-endpoint`).",
        "Todos os modelos registrados: o SmolLM2 embutido, fine-tunes locais e seus checkpoints, modelos e "
        "fine-tunes da OpenAI, endpoints compatíveis com OpenAI (adicione abaixo ou com "
        "`python -m core models add-endpoint`).",
    ),
    "playground.settings": ("Generation settings", "Configurações de geração"),
    "playground.settings_shared": ("Generation settings (all columns)", "Configurações de geração (todas as colunas)"),
    "playground.per_column": ("Settings per column", "Configurações por coluna"),
    "playground.per_column_help": (
        "Give each model its own settings — e.g. the prompt template each fine-tune was trained with "
        "(filled in from the training run when known).",
        "Cada modelo com suas próprias configurações — por exemplo o template de prompt com que cada fine-tune "
        "foi treinado (preenchido a partir do treino quando conhecido).",
    ),
    "playground.temperature": ("Temperature", "Temperatura"),
    "playground.max_new_tokens": ("Max new tokens", "Máximo de tokens novos"),
    "playground.top_p": ("Top-p", "Top-p"),
    "playground.system_prompt": ("System prompt (optional)", "Prompt de sistema (opcional)"),
    "playground.user_template": ("User template ({title} = the prompt)", "Template do usuário ({title} = o prompt)"),
    "playground.seed": ("Seed", "Semente"),
    "playground.generate": ("Generate", "Gerar"),
    "playground.need_two": ("Pick at least 2 models (at most 4).", "Escolha pelo menos 2 modelos (no máximo 4)."),
    "playground.need_prompt": ("Type a prompt or pick a test example.", "Digite um prompt ou escolha um exemplo de teste."),
    "playground.api_key": ("OpenAI API key", "Chave da API da OpenAI"),
    "playground.api_key_help": (
        "Used only for this session's requests; never stored. Set OPENAI_API_KEY to skip this field.",
        "Usada só nas requisições desta sessão; nunca é armazenada. Defina OPENAI_API_KEY para pular este campo.",
    ),
    "playground.need_key": (
        "The OpenAI models chosen need an API key: set OPENAI_API_KEY or type it in the field above.",
        "Os modelos da OpenAI escolhidos precisam de uma chave de API: defina OPENAI_API_KEY ou digite-a no campo acima.",
    ),
    "playground.waiting": ("waiting for the first token…", "aguardando o primeiro token…"),
    "playground.first_token": ("first token", "primeiro token"),
    "playground.total": ("total", "total"),
    "playground.tokens": ("tokens in → out", "tokens entrada → saída"),
    "playground.cost": ("cost", "custo"),
    "playground.no_price": ("no price", "sem preço"),
    "playground.price_tokens": ("${pin} / ${pout} per 1M tokens in / out", "US${pin} / US${pout} por 1M tokens entrada / saída"),
    "playground.price_hour": ("${price} per hour", "US${price} por hora"),
    "playground.metrics_line": (
        "first token {first} · total {total} · {tin} → {tout} tokens · {cost}",
        "primeiro token {first} · total {total} · {tin} → {tout} tokens · {cost}",
    ),
    "playground.answer_error": ("This model failed: {error}", "Este modelo falhou: {error}"),
    "playground.empty_answer": ("(empty answer)", "(resposta vazia)"),
    "playground.stored": (
        "Answers stored in the database (generations table): {count}.",
        "Respostas armazenadas no banco (tabela generations): {count}.",
    ),
    "playground.history": ("Recent generations", "Gerações recentes"),
    "playground.history_empty": ("No generations yet.", "Nenhuma geração ainda."),
    "playground.col_model": ("Model", "Modelo"),
    "playground.col_prompt": ("Prompt", "Prompt"),
    "playground.col_answer": ("Answer", "Resposta"),
    "playground.col_when": ("When", "Quando"),
    "playground.col_first": ("First token (s)", "Primeiro token (s)"),
    "playground.col_total": ("Total (s)", "Total (s)"),
    "playground.col_tokens_in": ("Tokens in", "Tokens entrada"),
    "playground.col_tokens_out": ("Tokens out", "Tokens saída"),
    "playground.col_cost": ("Cost (USD)", "Custo (USD)"),
    "playground.col_source": ("Where", "Onde"),
    "playground.where_playground": ("playground", "playground"),
    "playground.where_arena": ("arena", "arena"),
    "playground.where_cli": ("command line", "linha de comando"),
    "playground.add_endpoint": ("Add an OpenAI-compatible endpoint", "Adicionar um endpoint compatível com OpenAI"),
    "playground.endpoint_name": ("Name", "Nome"),
    "playground.endpoint_url": ("Base URL", "URL base"),
    "playground.endpoint_model": ("Model name on the server", "Nome do modelo no servidor"),
    "playground.endpoint_price_in": ("USD per 1M input tokens", "USD por 1M tokens de entrada"),
    "playground.endpoint_price_out": ("USD per 1M output tokens", "USD por 1M tokens de saída"),
    "playground.endpoint_add": ("Add endpoint", "Adicionar endpoint"),
    "playground.endpoint_added": ("Registered {model_id}.", "Registrado {model_id}."),
    "playground.endpoint_hint": (
        "Ollama: http://localhost:11434/v1 · vLLM: http://localhost:8000/v1 · llama.cpp server: "
        "http://localhost:8080/v1. A key, if the server needs one, comes from FTDASH_ENDPOINT_API_KEY.",
        "Ollama: http://localhost:11434/v1 · vLLM: http://localhost:8000/v1 · servidor llama.cpp: "
        "http://localhost:8080/v1. Uma chave, se o servidor exigir, vem de FTDASH_ENDPOINT_API_KEY.",
    ),
    # arena
    "playground.arena_intro": (
        "Two models are drawn at random from the pool and answer the same prompt; their names stay hidden "
        "until you vote. Ratings: Bradley–Terry, with 95% bootstrap intervals.",
        "Dois modelos são sorteados do grupo e respondem ao mesmo prompt; os nomes ficam ocultos até você "
        "votar. Ratings: Bradley–Terry, com intervalos bootstrap de 95%.",
    ),
    "playground.arena_pool": ("Models in the arena", "Modelos na arena"),
    "playground.arena_new": ("New round", "Nova rodada"),
    "playground.arena_left": ("Model A (left)", "Modelo A (esquerda)"),
    "playground.arena_right": ("Model B (right)", "Modelo B (direita)"),
    "playground.vote_left": ("A is better", "A é melhor"),
    "playground.vote_right": ("B is better", "B é melhor"),
    "playground.vote_tie": ("Tie", "Empate"),
    "playground.vote_both_bad": ("Both bad", "Ambos ruins"),
    "playground.voted": ("Vote stored: {vote}. A was {left}, B was {right}.",
                         "Voto registrado: {vote}. A era {left}, B era {right}."),
    "playground.arena_start": ("Press “New round” to draw two models for this prompt.",
                               "Clique em “Nova rodada” para sortear dois modelos para este prompt."),
    "playground.leaderboard": ("Arena leaderboard", "Classificação da arena"),
    "playground.leaderboard_empty": ("No votes yet.", "Nenhum voto ainda."),
    "playground.col_rank": ("#", "#"),
    "playground.col_rating": ("Rating", "Rating"),
    "playground.col_ci": ("95% interval", "Intervalo de 95%"),
    "playground.col_games": ("Votes", "Votos"),
    "playground.col_wtl": ("Won / tied / lost", "Vitórias / empates / derrotas"),
    "playground.votes_total": (
        "Votes: {count}. A tie and “both bad” count as half a win each; intervals need at least {min_games} votes "
        "per model.",
        "Votos: {count}. Empate e “ambos ruins” contam meia vitória para cada lado; os intervalos exigem pelo "
        "menos {min_games} votos por modelo.",
    ),
}
