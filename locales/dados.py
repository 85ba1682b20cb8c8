"""UI text of page 1 "Dados" (curation), English and Portuguese (pt-BR)."""

TEXT: dict[str, tuple[str, str]] = {
    "dados.title": ("Data curation", "Curadoria dos dados"),
    "dados.intro": (
        "Load a raw dataset, move the filters and watch what is left at each stage; save the curated "
        "train/test split for the next pages. The same curation runs from the command line: {command}",
        "Carregue um conjunto de dados bruto, mexa nos filtros e veja o que sobra em cada etapa; salve o "
        "split de treino/teste curado para as próximas páginas. A mesma curadoria roda na linha de comando: {command}",
    ),
    # source
    "dados.source": ("Data source", "Origem dos dados"),
    "dados.source_kind": ("Where is the raw file?", "Onde está o arquivo bruto?"),
    "dados.source.sample": ("Bundled raw sample (20k rows)", "Amostra bruta incluída (20 mil linhas)"),
    "dados.source.seed": ("Seed study split (dados/seed, 2,000 rows)", "Split do estudo original (dados/seed, 2.000 linhas)"),
    "dados.source.path": ("A path on this machine", "Um caminho nesta máquina"),
    "dados.source.upload": ("Upload a file", "Enviar um arquivo"),
    "dados.source.recent": ("A file opened before", "Um arquivo aberto antes"),
    "dados.path": ("Path of the raw file", "Caminho do arquivo bruto"),
    "dados.path_help": (
        "JSON lines (the trn.json shape), a JSON array, CSV or Parquet, optionally .gz. Big files "
        "(the 2.25M-row trn.json) load from here.",
        "JSON lines (o formato do trn.json), um array JSON, CSV ou Parquet, opcionalmente .gz. Arquivos "
        "grandes (o trn.json de 2,25 milhões de linhas) carregam por aqui.",
    ),
    "dados.upload": ("Raw file", "Arquivo bruto"),
    "dados.upload_cap": (
        "Uploads through the browser are limited to {mb} MB. For a bigger file (like the full trn.json), "
        "choose \"A path on this machine\" and type where it is.",
        "Envios pelo navegador são limitados a {mb} MB. Para um arquivo maior (como o trn.json completo), "
        "escolha \"Um caminho nesta máquina\" e digite onde ele está.",
    ),
    "dados.upload_first": ("Choose a file to upload.", "Escolha um arquivo para enviar."),
    "dados.recent": ("Opened before", "Abertos antes"),
    "dados.no_recent": ("No file was opened before.", "Nenhum arquivo foi aberto antes."),
    "dados.seed_split": ("Split of the seed study", "Split do estudo original"),
    "dados.title_column": ("Title column", "Coluna do título"),
    "dados.content_column": ("Content column", "Coluna do conteúdo"),
    "dados.loaded": (
        "{name}: {format}, {rows} rows{lines}, read in {seconds} s.",
        "{name}: {format}, {rows} linhas{lines}, lido em {seconds} s.",
    ),
    "dados.lines": (" from {lines} lines", " de {lines} linhas"),
    "dados.bad_lines": (
        "{count} malformed lines were skipped (not JSON objects), as the seed notebook did; the first: {first}.",
        "{count} linhas malformadas foram ignoradas (não são objetos JSON), como o notebook original fazia; "
        "as primeiras: {first}.",
    ),
    "dados.reading": ("Reading and cleaning {name} ({mode})…", "Lendo e limpando {name} ({mode})…"),
    "dados.counting": ("Counting tokens ({tokenizer})…", "Contando tokens ({tokenizer})…"),
    # filters
    "dados.filters": ("Filters", "Filtros"),
    "dados.preset": ("Preset", "Predefinição"),
    "dados.preset_help": (
        "seed-notebook: exactly the seed study's notebook. seed-readme: its README's wording (≥ 257 tokens, "
        "\"author\" or \"copyright\"). Presets you save appear here too.",
        "seed-notebook: exatamente o notebook do estudo original. seed-readme: o texto do README (≥ 257 tokens, "
        "\"author\" ou \"copyright\"). As predefinições que você salvar aparecem aqui também.",
    ),
    "dados.cleaning": ("Text cleaning", "Limpeza do texto"),
    "dados.cleaning.none": ("none", "nenhuma"),
    "dados.cleaning.seed": ("seed notebook", "notebook original"),
    "dados.cleaning.html": ("decode HTML", "decodificar HTML"),
    "dados.drop_empty": ("Drop empty rows", "Remover linhas vazias"),
    "dados.dedup": ("Drop duplicates", "Remover duplicadas"),
    "dados.title_chars": ("Title characters", "Caracteres do título"),
    "dados.content_chars": ("Content characters", "Caracteres do conteúdo"),
    "dados.tokens": ("Tokens (title + content)", "Tokens (título + conteúdo)"),
    "dados.no_limit": ("the right end means no limit", "o extremo direito significa sem limite"),
    "dados.tokenizer": ("Tokenizer", "Tokenizador"),
    "dados.hf_tokenizer": ("Hugging Face tokenizer (id or folder)", "Tokenizador Hugging Face (id ou pasta)"),
    "dados.hf_option": ("Hugging Face…", "Hugging Face…"),
    "dados.keywords": ("Keywords (comma-separated)", "Palavras-chave (separadas por vírgula)"),
    "dados.keyword_mode": ("Rows must contain", "As linhas devem conter"),
    "dados.keyword_mode.all": ("all keywords", "todas as palavras"),
    "dados.keyword_mode.any": ("any keyword", "qualquer palavra"),
    "dados.train_size": ("Train rows", "Linhas de treino"),
    "dados.test_size": ("Test rows", "Linhas de teste"),
    "dados.shuffle": ("Shuffle before splitting", "Embaralhar antes de dividir"),
    "dados.shuffle_seed": ("Shuffle seed", "Semente do embaralhamento"),
    # results
    "dados.funnel": ("Rows left at each stage", "Linhas que restam em cada etapa"),
    "dados.stage.loaded": ("loaded", "carregadas"),
    "dados.stage.chars": ("length", "tamanho"),
    "dados.stage.not_empty": ("not empty", "não vazias"),
    "dados.stage.deduplicated": ("no duplicates", "sem duplicadas"),
    "dados.stage.tokens": ("tokens", "tokens"),
    "dados.stage.keywords": ("keywords", "palavras-chave"),
    "dados.stage.train": ("train", "treino"),
    "dados.stage.test": ("test", "teste"),
    "dados.metric.loaded": ("Rows loaded", "Linhas carregadas"),
    "dados.metric.kept": ("Rows kept", "Linhas mantidas"),
    "dados.metric.train": ("Train", "Treino"),
    "dados.metric.test": ("Test", "Teste"),
    "dados.token_totals": ("Tokens ({tokenizer}): {train} in train, {test} in test.",
                           "Tokens ({tokenizer}): {train} no treino, {test} no teste."),
    "dados.hist_tokens": ("Tokens per row, before and after the token filter",
                          "Tokens por linha, antes e depois do filtro de tokens"),
    "dados.hist_chars": ("Characters per row after cleaning (every row loaded)",
                         "Caracteres por linha depois da limpeza (todas as linhas carregadas)"),
    "dados.before": ("before the token filter", "antes do filtro de tokens"),
    "dados.after": ("after the token filter", "depois do filtro de tokens"),
    "dados.title_series": ("Title", "Título"),
    "dados.content_series": ("Content", "Conteúdo"),
    "dados.axis_tokens": ("tokens (title + content)", "tokens (título + conteúdo)"),
    "dados.axis_chars": ("characters", "caracteres"),
    "dados.axis_rows": ("rows", "linhas"),
    "dados.limit_min": ("min", "mín"),
    "dados.limit_max": ("max", "máx"),
    "dados.log_scale": ("Log scale", "Escala logarítmica"),
    "dados.samples": ("Sample rows, kept and dropped", "Exemplos de linhas, mantidas e removidas"),
    "dados.col.row": ("row", "linha"),
    "dados.col.status": ("status", "situação"),
    "dados.col.reason": ("why", "por quê"),
    "dados.col.title": ("title", "título"),
    "dados.col.content": ("content", "conteúdo"),
    "dados.col.tokens": ("tokens", "tokens"),
    "dados.kept": ("kept (train)", "mantida (treino)"),
    "dados.dropped": ("dropped", "removida"),
    "dados.reason.train": ("passed every filter", "passou em todos os filtros"),
    "dados.reason.chars": ("title {title} / content {content} characters, outside {limits}",
                           "título {title} / conteúdo {content} caracteres, fora de {limits}"),
    "dados.reason.not_empty": ("title or content empty after cleaning", "título ou conteúdo vazio depois da limpeza"),
    "dados.reason.deduplicated": ("same title and content as an earlier row", "mesmo título e conteúdo de uma linha anterior"),
    "dados.reason.tokens": ("{tokens} tokens, outside {limits}", "{tokens} tokens, fora de {limits}"),
    "dados.reason.keywords_all": ("lacks at least one of: {words}", "falta pelo menos uma de: {words}"),
    "dados.reason.keywords_any": ("contains none of: {words}", "não contém nenhuma de: {words}"),
    "dados.no_samples": ("No rows to show.", "Nenhuma linha para mostrar."),
    # saving
    "dados.save": ("Save", "Salvar"),
    "dados.save_name": ("Name of the curated dataset", "Nome do conjunto curado"),
    "dados.save_help": (
        "Saved as a new version (v1, v2, …) with its config, the input's fingerprint and the counts; the next "
        "pages read it by this name.",
        "Salvo como uma nova versão (v1, v2, …) com a configuração, a impressão digital da entrada e as contagens; "
        "as próximas páginas o leem por este nome.",
    ),
    "dados.save_button": ("Save curated dataset", "Salvar conjunto curado"),
    "dados.saved": ("Saved {name} v{version}: {train} train and {test} test rows in {folder}.",
                    "Salvo {name} v{version}: {train} linhas de treino e {test} de teste em {folder}."),
    "dados.preset_name": ("Save these filters as a preset", "Salvar estes filtros como predefinição"),
    "dados.preset_button": ("Save preset", "Salvar predefinição"),
    "dados.preset_saved": ("Preset {name} saved.", "Predefinição {name} salva."),
    "dados.saved_list": ("Saved curated datasets", "Conjuntos curados salvos"),
    "dados.cli": ("Same curation from the command line", "A mesma curadoria na linha de comando"),
    "dados.config_error": ("These filters cannot be combined: {error}", "Estes filtros não podem ser combinados: {error}"),
    "dados.short_split": (
        "The filters keep {kept} rows, fewer than the {train_size} train + {test_size} test asked: train gets "
        "{train}, test {test}.",
        "Os filtros mantêm {kept} linhas, menos que as {train_size} de treino + {test_size} de teste pedidas: o "
        "treino fica com {train}, o teste com {test}.",
    ),
    "dados.short_no_test": ("With no test rows, pages 3–5 have nothing to evaluate on.",
                            "Sem linhas de teste, as páginas 3–5 não têm em que avaliar."),
    "dados.short_fix": ("Use {train} train / {test} test ({ratio})", "Usar {train} treino / {test} teste ({ratio})"),
    "dados.short_fix_help": (
        "Sets Train rows and Test rows so the rows kept are split in the train:test ratio you asked for.",
        "Ajusta as linhas de treino e de teste para dividir as linhas mantidas na proporção treino:teste pedida.",
    ),
    "dados.allow_no_test": ("Save without a test split", "Salvar sem split de teste"),
    "dados.allow_no_test_help": (
        "Pages 3–5 cannot evaluate a model on a curated dataset with no test rows: tick this only to train on it "
        "and evaluate on another dataset.",
        "As páginas 3–5 não conseguem avaliar um modelo num conjunto curado sem linhas de teste: marque isto só "
        "para treinar com ele e avaliar com outro conjunto.",
    ),
    "dados.save_needs_name": ("Type a name for the curated dataset first.",
                              "Digite antes um nome para o conjunto curado."),
    "dados.save_needs_rows": ("No row passes every filter, so there is nothing to save: loosen a filter first.",
                              "Nenhuma linha passa em todos os filtros, então não há o que salvar: afrouxe um "
                              "filtro antes."),
    "dados.save_needs_test": (
        "This split has no test rows: use the suggested split above, lower Train rows, or tick "
        "\"Save without a test split\".",
        "Este split não tem linhas de teste: use a divisão sugerida acima, diminua as linhas de treino ou marque "
        "\"Salvar sem split de teste\".",
    ),
    "dados.preset_needs_name": ("Type a name for the preset first.", "Digite antes um nome para a predefinição."),
    "dados.nothing_kept": ("No row passes every filter: loosen a filter to get a train split.",
                           "Nenhuma linha passa em todos os filtros: afrouxe um filtro para ter um split de treino."),
}
