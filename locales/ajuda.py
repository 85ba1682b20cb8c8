"""Portuguese (pt-BR) help of the config fields that pages show as widget help.

The English help lives with each field in core (``field(metadata={"help": ...})``: the CLI's --help
and the docs read it there); this table holds its pt-BR twin under ``"<Class>.<field>"``.
``ui.common.help_for(cls, name)`` picks one by the page's language. tests/test_locales.py checks that
every helped field of the classes pages use has an entry here, with the same {placeholders}.
"""
from __future__ import annotations

PT_HELP: dict[str, str] = {
    # -- page 1: core.data.curation.CurationConfig --------------------------------------------------------
    "CurationConfig.title_column": "Coluna do arquivo bruto com o título (a entrada do modelo).",
    "CurationConfig.content_column": "Coluna do arquivo bruto com o conteúdo (a resposta esperada).",
    "CurationConfig.cleaning": "Limpeza do texto. seed: a do notebook (strip, só letras, dígitos e espaços, minúsculas; "
                               "um valor ausente vira o texto 'nan', como o pandas fazia); html: decodifica entidades "
                               "HTML como &amp;; none: o texto como está.",
    "CurationConfig.min_title_chars": "Mantém as linhas cujo título limpo tem pelo menos estes caracteres "
                                      "(o notebook: mais de 40).",
    "CurationConfig.max_title_chars": "Mantém as linhas cujo título limpo tem no máximo estes caracteres "
                                      "(vazio: sem limite).",
    "CurationConfig.min_content_chars": "Mantém as linhas cujo conteúdo limpo tem pelo menos estes caracteres "
                                        "(o notebook: mais de 400).",
    "CurationConfig.max_content_chars": "Mantém as linhas cujo conteúdo limpo tem no máximo estes caracteres "
                                        "(vazio: sem limite).",
    "CurationConfig.drop_empty": "Descarta as linhas com título ou conteúdo vazio depois da limpeza.",
    "CurationConfig.dedup": "Descarta as linhas cujo par (título, conteúdo) repete uma linha anterior, mantendo a "
                            "primeira.",
    "CurationConfig.tokenizer": "Tokenizador do filtro de tokens: o200k_base (família gpt-4o), cl100k_base, smollm2 "
                                "(o modelo embutido) ou hf:<id do modelo ou pasta>.",
    "CurationConfig.min_tokens": "Mantém as linhas em que tokens(título) + tokens(conteúdo) é pelo menos isto "
                                 "(o README do estudo: 257).",
    "CurationConfig.max_tokens": "Mantém as linhas em que tokens(título) + tokens(conteúdo) é no máximo isto "
                                 "(o notebook: menos de 257; vazio: sem limite).",
    "CurationConfig.keywords": "Mantém as linhas em que estas palavras aparecem no título ou no conteúdo (trechos, "
                               "sem diferenciar maiúsculas); vazio: mantém todas.",
    "CurationConfig.keyword_mode": "all: todas as palavras precisam aparecer (o notebook); any: pelo menos uma "
                                   "(o README do estudo).",
    "CurationConfig.train_size": "Linhas no conjunto de treino (as primeiras mantidas).",
    "CurationConfig.test_size": "Linhas no conjunto de teste (as que vêm logo depois do treino).",
    "CurationConfig.shuffle_seed": "Vazio: treino e teste na ordem do arquivo (o notebook). Um número: embaralha as "
                                   "linhas mantidas com esta semente antes de dividir.",
    # -- page 2: core.formats.stats.FormatView, core.formats.render.TemplateConfig ---------------------------
    "FormatView.source": "Dataset curado: seed-study (a divisão do estudo, embutida), um nome[@vN] salvo na página 1 "
                         "ou uma pasta escrita por `python -m core curate --out`.",
    "FormatView.split": "Qual divisão formatar: train (o que é treinado) ou test (reservado).",
    "FormatView.fmt": "O formato a validar, estimar e exportar.",
    "FormatView.local_model": "Modelo local cujo tokenizador e template de chat são usados (smollm2 = o "
                              "SmolLM2-135M-Instruct embutido, uma pasta ou um id do HF).",
    "FormatView.openai_model": "Modelo da OpenAI para contagem de tokens, limites e preços.",
    "FormatView.seq_len": "Comprimento de sequência do fine-tune local: exemplos maiores são truncados.",
    "FormatView.template": "Prompt de sistema e templates de usuário/assistente.",
    "TemplateConfig.system_prompt": "Mensagem de sistema antes de cada exemplo (vazio: nenhuma). OpenAI chat, ShareGPT "
                                    "e o template de chat a recebem como turno de sistema; Alpaca a usa como "
                                    "instrução; completion a coloca no início.",
    "TemplateConfig.user_template": "A mensagem do usuário; {title} e {content} são trocados pelos campos da linha, "
                                    "por exemplo 'Descreva o produto: {title}'.",
    "TemplateConfig.assistant_template": "A resposta que o modelo aprende; precisa conter {content}, inserido "
                                         "exatamente como foi curado.",
    # -- page 3: core.training.config.TrainConfig ---------------------------------------------------------
    "TrainConfig.backend": "Onde o fine-tune roda: 'local' (LoRA com transformers + peft nesta máquina) ou um job de "
                           "fine-tuning hospedado na 'openai', 'together' ou 'fireworks'.",
    "TrainConfig.base_model": "O modelo a ajustar: 'smollm2' (o SmolLM2-135M-Instruct embutido), uma pasta de modelo "
                              "local ou um id do Hugging Face (precisa da rede ou do cache).",
    "TrainConfig.data": "Dados de treino: um dataset curado (o nome, nome@vN ou a pasta da página 1; seed-study vem "
                        "embutido) ou um arquivo de treino exportado na página 2.",
    "TrainConfig.format": "Como cada exemplo vira texto: chat-template (o template de chat do próprio modelo), "
                          "openai-chat, alpaca, sharegpt ou completion (página 2).",
    "TrainConfig.template": "Prompt de sistema e templates de usuário/assistente (core.formats.render.TemplateConfig) "
                            "aplicados a um dataset curado; vazio = o do estudo (título -> conteúdo).",
    "TrainConfig.preset": "O preset de onde estas configurações partiram (guardado para o registro).",
    "TrainConfig.seed": "Semente aleatória da inicialização do LoRA e da ordem dos exemplos.",
    "TrainConfig.lora_r": "Rank do LoRA: o tamanho da atualização de posto baixo; maior aprende mais e custa mais.",
    "TrainConfig.lora_alpha": "Alpha do LoRA: a atualização é escalada por alpha / r.",
    "TrainConfig.lora_dropout": "Dropout na entrada do LoRA durante o treino (0 é o mais rápido).",
    "TrainConfig.target_modules": "Camadas que recebem atualização LoRA: as projeções de atenção (q, k, v, o) e/ou "
                                  "as do MLP (gate, up, down).",
    "TrainConfig.epochs": "Passadas pelos exemplos de treino (usado quando o máximo de passos é 0).",
    "TrainConfig.max_steps": "Passos do otimizador; 0 = treina pelo número de épocas.",
    "TrainConfig.learning_rate": "Taxa de aprendizado máxima do AdamW.",
    "TrainConfig.lr_scheduler": "Como a taxa de aprendizado cai depois do aquecimento: linear, cosine ou constant.",
    "TrainConfig.warmup_steps": "Passos em que a taxa de aprendizado sobe de 0 até o máximo.",
    "TrainConfig.weight_decay": "Decaimento de pesos do AdamW nos pesos do LoRA.",
    "TrainConfig.batch_size": "Exemplos por passada (por GPU).",
    "TrainConfig.grad_accum": "Passadas acumuladas por passo do otimizador: tamanho do passo = lote x acumulação.",
    "TrainConfig.max_seq_len": "Maior exemplo em tokens; os mais longos são cortados no fim. Nada é completado com "
                               "padding até este tamanho: os lotes são empacotados sem padding.",
    "TrainConfig.loss_on": "Onde a loss é calculada: 'answer' (só a resposta do assistente; o prompt é contexto) ou "
                           "'all' (todos os tokens, como no notebook do estudo).",
    "TrainConfig.max_train_examples": "Usa só os N primeiros exemplos de treino (0 = todos).",
    "TrainConfig.eval_every": "Calcula a loss no conjunto de teste a cada N passos (0 = só no fim, e só quando os "
                              "dados têm teste).",
    "TrainConfig.eval_examples": "Exemplos de teste usados em cada avaliação (0 = o teste inteiro).",
    "TrainConfig.save_every": "Salva um checkpoint (adaptador + otimizador) a cada N passos, para poder retomar o "
                              "treino (0 = só ao cancelar).",
    "TrainConfig.merge_adapter": "Salva também o modelo base com o adaptador mesclado (merged/), um modelo comum que "
                                 "qualquer ferramenta carrega.",
    "TrainConfig.device": "Onde treinar: auto escolhe CUDA, depois Apple MPS, depois a CPU.",
    "TrainConfig.precision": "Formato numérico: auto = bf16 nas GPUs que suportam (fp16 nas outras) e nas CPUs com "
                             "bf16 nativo (AVX512-BF16/AMX), fp32 nas outras CPUs.",
    "TrainConfig.load_in_4bit": "Carrega o modelo base em 4 bits (QLoRA); precisa de GPU CUDA e bitsandbytes.",
    "TrainConfig.multi_gpu": "Com várias GPUs CUDA, treina em todas (accelerate launch, um processo por GPU).",
    "TrainConfig.hardware": "Linha da tabela de hardware (página 2) usada na estimativa de tempo e custo quando "
                            "nenhum treino anterior deste modelo mediu a velocidade aqui.",
    "TrainConfig.price_per_hour": "USD por hora desta máquina, para o custo real de um treino local (vazio = o preço "
                                  "local do registro).",
    "TrainConfig.grace_s": "Segundos que um treino cancelado tem para parar sozinho (e salvar um checkpoint) antes "
                           "de seus processos serem encerrados.",
    "TrainConfig.openai": "Configurações da OpenAI (modelo, hiperparâmetros, sufixo...: um OpenAITrainConfig como "
                          "dicionário) quando o backend é 'openai'.",
    "TrainConfig.together": "Configurações da Together (model, n_epochs, learning_rate, lora_rank, suffix, batch_size, "
                            "from_checkpoint...: um TogetherTrainConfig como dicionário) quando o backend é 'together'; "
                            "a chave vem de TOGETHER_API_KEY.",
    "TrainConfig.fireworks": "Configurações da Fireworks (model, account_id, n_epochs, learning_rate, lora_rank, suffix, "
                             "output_model, warm_start_from...: um FireworksTrainConfig como dicionário) quando o "
                             "backend é 'fireworks'; a chave vem de FIREWORKS_API_KEY.",
    # -- page 4: core.models.answers.GenerationSettings ------------------------------------------------------
    "GenerationSettings.temperature": "Temperatura de amostragem: 0 é greedy (a mesma resposta sempre), mais alta "
                                      "varia mais (0 a 2).",
    "GenerationSettings.max_new_tokens": "O máximo de tokens que uma resposta pode ter (1 a 4096).",
    "GenerationSettings.top_p": "Amostragem nucleus: mantém os tokens mais prováveis cujas probabilidades somam "
                                "isto (0 a 1; só com temperatura acima de 0).",
    "GenerationSettings.system_prompt": "Uma mensagem de sistema opcional antes da pergunta; use a mesma do "
                                        "fine-tune.",
    "GenerationSettings.user_template": "A mensagem do usuário, com {title} onde entra o prompt: o mesmo template dos "
                                        "dados de treino, ou o fine-tune não reconhece a tarefa.",
    "GenerationSettings.seed": "Semente da amostragem (temperatura acima de 0), para repetir uma resposta amostrada.",
    # -- page 5: core.compare.evaluate.EvalConfig --------------------------------------------------------------
    "EvalConfig.models": "Ids do registro dos modelos a avaliar (modelos base e fine-tunes), por exemplo "
                         "local:smollm2, openai:gpt-4o-mini-2024-07-18.",
    "EvalConfig.data": "Dataset curado: uma pasta com train.jsonl/test.jsonl, o nome de uma curadoria salva (nome ou "
                       "nome@v2) ou seed-study (a divisão do próprio estudo).",
    "EvalConfig.split": "A divisão reservada para avaliar (test), ou train para checar memorização.",
    "EvalConfig.limit": "Quantos exemplos (sorteados com a semente); vazio ou 0 para todos.",
    "EvalConfig.seed": "Semente do sorteio dos exemplos (a mesma semente dá os mesmos exemplos).",
    "EvalConfig.variants": "Variantes do prompt: outras formulações, pt-BR, um resumo de uma linha. A flexibilidade é "
                           "a dispersão das notas entre elas.",
    "EvalConfig.metrics": "Métricas por resposta: rougeL, chrf, bleu, semantic (MiniLM), length_ratio, repetition.",
    "EvalConfig.main_metric": "A métrica que ordena a classificação, o gráfico de custo e os critérios.",
    "EvalConfig.temperature": "Temperatura de amostragem; 0 (greedy) torna a avaliação repetível.",
    "EvalConfig.max_new_tokens": "O máximo de tokens por resposta (as descrições do estudo têm ~150-250 tokens; menos "
                                 "é mais rápido).",
    "EvalConfig.top_p": "Amostragem nucleus (só com temperatura acima de 0).",
    "EvalConfig.system_prompt": "Uma mensagem de sistema para todos os modelos (vazio: a do próprio modelo, se "
                                "houver).",
    "EvalConfig.batch_size": "Respostas geradas juntas (modelos locais) e gravadas de uma vez; uma interrupção perde "
                             "no máximo um lote.",
    "EvalConfig.judge_model": "Id do registro de um LLM juiz (qualquer modelo OpenAI ou compatível com OpenAI); vazio "
                              "para nenhum juiz.",
    "EvalConfig.judge_rubric": "O que o juiz lê: {title}, {reference} e {answer} são preenchidos; precisa terminar "
                               "com uma linha 'SCORE: n' (1 a 5).",
}

# -- page 3, hosted backends: TogetherTrainConfig and FireworksTrainConfig (core/training/backends/) ---------
# The fields both take from HostedTrainConfig (core/training/backends/hosted_common.py) say the same in both.
_HOSTED_PT = {
    "training_file": "O arquivo de treino (JSONL exportado na página 2) ou a pasta de um dataset curado, cujo split "
                     "de treino é escrito como JSONL de chat da OpenAI com o template do prompt.",
    "validation_file": "Um arquivo de validação opcional, no mesmo formato.",
    "format": "Formato de treino dos arquivos (conferido com as regras do provedor).",
    "n_epochs": "Passadas pelos dados de treino.",
    "lora_rank": "Rank do LoRA; vazio usa o padrão do provedor para o modelo.",
    "suffix": "Acrescentado ao nome do modelo ajustado, para encontrá-lo depois.",
    "seed": "A semente aleatória do job, onde o provedor aceita uma.",
    "base_url": "Outra URL base da API; vazio usa a variável do provedor ou a dele próprio.",
    "poll_interval_s": "Segundos entre duas consultas ao job.",
    "max_outage_s": "Quanto tempo o provedor pode ficar inalcançável durante o acompanhamento antes de o treino ser "
                    "marcado como falho (o job continua lá).",
    "request_timeout_s": "Segundos que uma requisição à API pode levar.",
    "max_retries": "Novas tentativas de uma requisição que recebeu 429, 5xx, estourou o tempo ou perdeu a conexão.",
    "price_training_per_m": "USD por 1M de tokens de treino (da tabela de preços, no lançamento).",
    "price_input_per_m": "USD por 1M de tokens de entrada do modelo ajustado.",
    "price_output_per_m": "USD por 1M de tokens de saída do modelo ajustado.",
    "prompt_template": "O template usado para montar o arquivo de treino (o playground o reutiliza).",
    "max_train_examples": "Com um dataset curado: envia só os primeiros N exemplos.",
}
PT_HELP.update({f"{cls}.{name}": text for cls in ("TogetherTrainConfig", "FireworksTrainConfig")
                for name, text in _HOSTED_PT.items()})
PT_HELP.update({
    "TogetherTrainConfig.model": "O modelo base da Together a ajustar com LoRA (os ajustáveis terminam em -Reference "
                                 "ou aparecem na lista de ajustáveis).",
    "TogetherTrainConfig.learning_rate": "A taxa de aprendizado (o padrão da Together é 1e-5).",
    "TogetherTrainConfig.batch_size": "Exemplos por lote: 'max' (o máximo que o modelo permite) ou um número.",
    "TogetherTrainConfig.lora_alpha": "Alpha do LoRA; vazio é o dobro do rank.",
    "TogetherTrainConfig.n_checkpoints": "Checkpoints que a Together guarda durante o job (um job posterior pode "
                                         "continuar de um deles).",
    "TogetherTrainConfig.n_evals": "Avaliações no arquivo de validação durante o job (precisa de um arquivo de "
                                   "validação).",
    "TogetherTrainConfig.from_checkpoint": "Continua outro job da Together: JOB_ID ou JOB_ID:STEP (o modelo e as "
                                           "configurações de LoRA dele são mantidos).",
    "FireworksTrainConfig.model": "O modelo base da Fireworks a ajustar (accounts/fireworks/models/...).",
    "FireworksTrainConfig.learning_rate": "A taxa de aprendizado; vazio usa o padrão do provedor.",
    "FireworksTrainConfig.account_id": "O id da sua conta na Fireworks (não é segredo); vazio usa FIREWORKS_ACCOUNT_ID.",
    "FireworksTrainConfig.output_model": "O id do modelo ajustado na sua conta; vazio: feito do sufixo e do id do "
                                         "treino.",
    "FireworksTrainConfig.warm_start_from": "Continua treinando um fine-tune anterior (accounts/<você>/models/<id>) "
                                            "em vez de partir do modelo base.",
    "FireworksTrainConfig.max_context_length": "Exemplo mais longo em tokens; vazio usa o padrão do modelo.",
    "FireworksTrainConfig.dataset_wait_s": "Quanto tempo esperar a Fireworks ler o arquivo enviado.",
})

# -- page 3, OpenAI: core.hosted.openai_finetune.OpenAITrainConfig (ui/openai_treino.py) ------------------
PT_HELP.update({
    "OpenAITrainConfig.model": "O modelo base da OpenAI a ajustar (da tabela de preços).",
    "OpenAITrainConfig.training_file": "O arquivo de treino em JSONL de chat da OpenAI (exportado na página 2) ou a "
                                       "pasta de um dataset curado, cujo split de treino é escrito nesse formato com "
                                       "o template do prompt.",
    "OpenAITrainConfig.validation_file": "Um arquivo de validação opcional no mesmo formato: a OpenAI informa o "
                                         "valid_loss nele durante o treino.",
    "OpenAITrainConfig.suffix": "Até 64 caracteres acrescentados ao nome do modelo ajustado "
                                "(ft:<model>:<org>:<suffix>:<id>).",
    "OpenAITrainConfig.seed": "A semente do job; a mesma semente e os mesmos dados dão o mesmo resultado (quase "
                              "sempre).",
    "OpenAITrainConfig.n_epochs": "Épocas: 'auto' deixa a OpenAI escolher (3, ajustado para arquivos minúsculos ou "
                                  "enormes), ou um número de 1 a 50.",
    "OpenAITrainConfig.batch_size": "Exemplos por lote: 'auto' ou um número de 1 a 256.",
    "OpenAITrainConfig.learning_rate_multiplier": "Escala da taxa de aprendizado: 'auto' ou um número acima de 0 (o "
                                                  "estudo original usou 1,8).",
    "OpenAITrainConfig.format": "Formato de treino dos arquivos: JSONL de chat da OpenAI (conferido antes do envio).",
    "OpenAITrainConfig.base_url": "Outra URL base de API compatível com a OpenAI; vazio usa OPENAI_BASE_URL ou "
                                  "api.openai.com.",
    "OpenAITrainConfig.poll_interval_s": "Segundos entre duas consultas ao estado, aos eventos e aos checkpoints do "
                                         "job.",
    "OpenAITrainConfig.max_outage_s": "Quanto tempo a rede ou a OpenAI podem ficar inalcançáveis durante o "
                                      "acompanhamento antes de o treino ser marcado como falho (o job continua na "
                                      "OpenAI).",
    "OpenAITrainConfig.request_timeout_s": "Segundos que uma requisição à API pode levar antes de ser repetida.",
    "OpenAITrainConfig.max_retries": "Novas tentativas de uma requisição que recebeu 429, 5xx, estourou o tempo ou "
                                     "perdeu a conexão.",
    "OpenAITrainConfig.price_training_per_m": "USD por 1M de tokens de treino (preenchido da tabela de preços no "
                                              "lançamento).",
    "OpenAITrainConfig.price_input_per_m": "USD por 1M de tokens de entrada do modelo ajustado.",
    "OpenAITrainConfig.price_output_per_m": "USD por 1M de tokens de saída do modelo ajustado.",
    "OpenAITrainConfig.prompt_template": "O template system/user/assistant usado para montar o arquivo de treino (o "
                                         "playground o reutiliza).",
    "OpenAITrainConfig.max_train_examples": "Com um dataset curado: envia só os primeiros N exemplos de treino (vazio "
                                            "ou 0 = todos).",
})
