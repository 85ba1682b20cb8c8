"""UI text of the treino page (paginas/3_treino.py) and of its OpenAI widgets (ui/openai_treino.py)."""

_FIELDS = {
    "backend": ("Backend", "Backend"),
    "format": ("Format", "Formato"),
    "lora_r": ("LoRA rank r", "Rank r do LoRA"),
    "lora_alpha": ("LoRA alpha", "Alpha do LoRA"),
    "lora_dropout": ("LoRA dropout", "Dropout do LoRA"),
    "target_modules": ("Target modules", "Módulos-alvo"),
    "max_steps": ("Max steps (0 = epochs)", "Passos máx. (0 = épocas)"),
    "epochs": ("Epochs", "Épocas"),
    "learning_rate": ("Learning rate", "Taxa de aprendizado"),
    "lr_scheduler": ("Schedule", "Agenda da taxa"),
    "warmup_steps": ("Warm-up steps", "Passos de aquecimento"),
    "weight_decay": ("Weight decay", "Decaimento de pesos"),
    "batch_size": ("Batch size", "Tamanho do lote"),
    "grad_accum": ("Gradient accumulation", "Acumulação de gradiente"),
    "max_seq_len": ("Max sequence length", "Comprimento máx. da sequência"),
    "loss_on": ("Loss on", "Perda sobre"),
    "eval_every": ("Eval every N steps", "Avaliar a cada N passos"),
    "eval_examples": ("Eval examples", "Exemplos de avaliação"),
    "save_every": ("Checkpoint every N steps", "Checkpoint a cada N passos"),
    "max_train_examples": ("Max training examples (0 = all)", "Máx. de exemplos de treino (0 = todos)"),
    "seed": ("Seed", "Semente"),
    "device": ("Device", "Dispositivo"),
    "precision": ("Precision", "Precisão numérica"),
    "load_in_4bit": ("Load in 4 bits (QLoRA)", "Carregar em 4 bits (QLoRA)"),
    "merge_adapter": ("Also save the merged model", "Salvar também o modelo mesclado"),
    "price_per_hour": ("Price per hour (USD)", "Preço por hora (USD)"),
}

_STATUSES = {
    "starting": ("starting", "iniciando"),
    "validating_files": ("validating files", "validando arquivos"),
    "queued": ("queued", "na fila"),
    "running": ("running", "treinando"),
    "paused": ("paused", "pausado"),
    "succeeded": ("succeeded", "concluído"),
    "failed": ("failed", "falhou"),
    "cancelled": ("cancelled", "cancelado"),
    "lost": ("lost", "perdido"),
}

TEXT: dict[str, tuple[str, str]] = {
    "treino.title": ("Training", "Treino"),
    "treino.intro": (
        "Fine-tune a base model on a curated dataset: LoRA on this machine, or a hosted job at OpenAI, Together or "
        "Fireworks. The run trains in its own process: reload the page, open a second tab or restart the app, it "
        "keeps going.",
        "Ajuste um modelo base a um conjunto curado: LoRA nesta máquina ou um job hospedado na OpenAI, na Together "
        "ou na Fireworks. O treino roda em um processo próprio: recarregue a página, abra outra aba ou reinicie o "
        "app, ele continua."),
    "treino.new_run": ("New run", "Novo treino"),
    "treino.backend_local": ("Local LoRA", "LoRA local"),
    "treino.backend_openai": ("OpenAI", "OpenAI"),
    "treino.backend_together": ("Together", "Together"),
    "treino.backend_fireworks": ("Fireworks", "Fireworks"),
    "treino.backend_note_local": (
        "LoRA on this machine with the bundled model or any open-weights model: no key, nothing leaves the machine.",
        "LoRA nesta máquina com o modelo embutido ou qualquer modelo de pesos abertos: sem chave, nada sai da "
        "máquina."),
    "treino.backend_note_together": (
        "A LoRA fine-tune of an open model (Llama, Qwen, ...) on Together's servers: needs a Together API key; new "
        "jobs are open to every account. The result answers through Together's chat API on pages 4 and 5.",
        "Um fine-tune LoRA de um modelo aberto (Llama, Qwen, ...) nos servidores da Together: precisa de uma chave "
        "da API da Together; jobs novos estão abertos a qualquer conta. O resultado responde pela API de chat da "
        "Together nas páginas 4 e 5."),
    "treino.backend_note_fireworks": (
        "A LoRA fine-tune of an open model (Llama, Qwen, ...) on Fireworks: needs a Fireworks API key and account "
        "id; new jobs are open to every account. The result must be deployed before it answers (asked here, with "
        "its cost, once the job is done).",
        "Um fine-tune LoRA de um modelo aberto (Llama, Qwen, ...) na Fireworks: precisa de uma chave da API e do id "
        "da conta na Fireworks; jobs novos estão abertos a qualquer conta. O resultado precisa ser implantado antes "
        "de responder (perguntado aqui, com o custo, quando o job termina)."),
    "treino.wind_down_403": (
        "OpenAI refused to start the fine-tuning job (403 training_not_available): creating fine-tuning jobs is "
        "unavailable since {never} to organisations that never fine-tuned, since {inactive} to those without "
        "fine-tuned-model inference in the last 60 days, and to everyone from {last}. Fine-tuned models you already "
        "have keep answering; the Together and Fireworks backends (and the local one) still take new jobs.",
        "A OpenAI recusou iniciar o job de fine-tuning (403 training_not_available): criar jobs de fine-tuning não é "
        "possível desde {never} para organizações que nunca fizeram fine-tuning, desde {inactive} para as que não "
        "usaram inferência de modelos ajustados nos últimos 60 dias, e para todas a partir de {last}. Os modelos já "
        "ajustados continuam respondendo; os backends Together e Fireworks (e o local) ainda aceitam jobs novos."),
    "treino.model": ("Base model", "Modelo base"),
    "treino.model_smollm2": ("SmolLM2-135M-Instruct (bundled)", "SmolLM2-135M-Instruct (embutido)"),
    "treino.model_other": ("Another model (folder or Hugging Face id)", "Outro modelo (pasta ou id do Hugging Face)"),
    "treino.model_path": ("Folder or Hugging Face id", "Pasta ou id do Hugging Face"),
    "treino.data": ("Data", "Dados"),
    "treino.data_file": ("exported file", "arquivo exportado"),
    "treino.format_from_file": ("The format the file was exported in (page 2).",
                                "O formato em que o arquivo foi exportado (página 2)."),
    "treino.template": ("Prompt template", "Modelo de prompt"),
    "treino.preset": ("Preset", "Predefinição"),
    "treino.preset_seed-study": ("Seed study (r16, 60 steps)", "Estudo original (r16, 60 passos)"),
    "treino.preset_cpu-demo": ("CPU demo (~1 min)", "Demo em CPU (~1 min)"),
    "treino.preset_custom": ("Defaults", "Padrões"),
    "treino.preset_help": (
        "Fills the settings below: the seed study's LoRA recipe, or a demo that finishes in about a minute on the "
        "CPU with the bundled model. Change any value afterwards.",
        "Preenche os ajustes abaixo: a receita LoRA do estudo original, ou uma demo que termina em cerca de um "
        "minuto na CPU com o modelo embutido. Depois altere o que quiser."),
    "treino.loss_on_answer": ("the answer only", "só a resposta"),
    "treino.loss_on_all": ("every token", "todos os tokens"),
    "treino.advanced": ("Advanced: schedule, evaluation, hardware", "Avançado: agenda, avaliação, hardware"),
    "treino.price_default": ("registry's price", "preço do registro"),
    "treino.estimating": ("Estimating time and cost…", "Estimando tempo e custo…"),
    "treino.no_estimate": (
        "No estimate yet: no speed is known for this model here (a first run or a calibration on page 2 gives one).",
        "Sem estimativa ainda: não se conhece a velocidade deste modelo aqui (um primeiro treino ou uma calibração "
        "na página 2 a fornece)."),
    "treino.est_time": ("Estimated time", "Tempo estimado"),
    "treino.est_cost": ("Estimated cost", "Custo estimado"),
    "treino.est_tokens": ("Tokens to process", "Tokens a processar"),
    "treino.est_rate": ("Tokens/s assumed", "Tokens/s supostos"),
    "treino.est_source": ("Speed from: {source}", "Velocidade de: {source}"),
    "treino.launch": ("Launch training", "Iniciar treino"),
    "treino.launched": ("Run {run} launched: its status and progress show below.",
                        "Treino {run} lançado: o estado e o progresso aparecem abaixo."),
    "treino.est_source_kind": ("Speed from {kind}: {source}", "Velocidade {kind}: {source}"),
    "treino.source_kind_past-runs": ("past runs on this hardware", "de treinos anteriores neste hardware"),
    "treino.source_kind_calibration": ("a calibration", "de uma calibração"),
    "treino.source_kind_table": ("the hardware table", "da tabela de hardware"),
    "treino.source_kind_given": ("a given figure", "de um valor informado"),
    "treino.source_kind_seed-job": ("the seed study's OpenAI job", "do job da OpenAI do estudo original"),
    "treino.source_past_runs": (
        "runs of {model} on {device} ({runs}): median {rate} tokens/s",
        "treinos de {model} em {device} ({runs}): mediana de {rate} tokens/s"),
    "treino.check_title": ("Estimate at launch vs what happened (error in % of the actual; negative: too low)",
                           "Estimativa no lançamento vs o que aconteceu (erro em % do real; negativo: baixa demais)"),
    "treino.check_time": ("time", "tempo"),
    "treino.check_cost": ("cost", "custo"),
    "treino.check_estimated": ("estimated", "estimado"),
    "treino.check_actual": ("actual", "real"),
    "treino.check_error": ("error", "erro"),
    "treino.reattached": ("Re-attached to the OpenAI job.", "Reconectado ao job da OpenAI."),
    "treino.hosted_resumed": ("The job goes on from its last checkpoint.", "O job continua do seu último checkpoint."),
    "treino.col_id": ("run", "treino"),
    "treino.col_backend": ("backend", "backend"),
    "treino.col_base_model": ("base model", "modelo base"),
    "treino.col_status": ("status", "estado"),
    "treino.col_step": ("step", "passo"),
    "treino.col_total_steps": ("steps", "passos"),
    "treino.col_final_loss": ("final loss", "perda final"),
    "treino.col_best_loss": ("best loss", "melhor perda"),
    "treino.col_tokens_per_s": ("tokens/s", "tokens/s"),
    "treino.col_estimated_wall_s": ("estimated time", "tempo estimado"),
    "treino.col_wall_s": ("time", "tempo"),
    "treino.col_time_error_pct": ("time error", "erro do tempo"),
    "treino.col_estimated_cost_usd": ("estimated cost", "custo estimado"),
    "treino.col_actual_cost_usd": ("cost", "custo"),
    "treino.col_cost_error_pct": ("cost error", "erro do custo"),
    "treino.col_device": ("device", "dispositivo"),
    "treino.runs": ("Runs", "Treinos"),
    "treino.no_runs": ("No runs yet: launch one above.", "Nenhum treino ainda: inicie um acima."),
    "treino.run": ("Run", "Treino"),
    "treino.progress": ("step {step} of {total} · epoch {epoch}", "passo {step} de {total} · época {epoch}"),
    "treino.progress_percent": ("{percent}% done · epoch {epoch}", "{percent}% concluído · época {epoch}"),
    "treino.elapsed": ("Elapsed", "Decorrido"),
    "treino.eta": ("Time left", "Tempo restante"),
    "treino.tokens_per_s": ("Tokens/s", "Tokens/s"),
    "treino.trained_tokens": ("Trained tokens", "Tokens treinados"),
    "treino.cost": ("Actual cost", "Custo real"),
    "treino.cost_help": ("Estimated before launch: {estimate}.", "Estimado antes do início: {estimate}."),
    "treino.final_loss": ("Train loss", "Perda de treino"),
    "treino.best_loss": ("Best loss (eval if any): {best}", "Melhor perda (avaliação, se houver): {best}"),
    "treino.estimated": ("estimated {cost} in {time}", "estimado {cost} em {time}"),
    "treino.peak_rss": ("peak RAM {rss} MB", "pico de RAM {rss} MB"),
    "treino.peak_gpu": ("peak GPU memory {gpu} MB", "pico de memória da GPU {gpu} MB"),
    "treino.smoothed": ("(mean of 5 steps)", "(média de 5 passos)"),
    "treino.output": ("model: {path}", "modelo: {path}"),
    "treino.provider_quote": ("the provider quoted {cost}", "o provedor cotou {cost}"),
    "treino.cancel": ("Cancel", "Cancelar"),
    "treino.cancel_requested": (
        "Cancel requested: the run saves a checkpoint and stops (or is stopped after its grace period).",
        "Cancelamento pedido: o treino salva um checkpoint e para (ou é parado após o prazo de tolerância)."),
    "treino.resume": ("Resume", "Retomar"),
    "treino.resumed": ("Resumed from the last checkpoint.", "Retomado do último checkpoint."),
    "treino.log": ("Log (output.log)", "Log (output.log)"),
    "treino.log_empty": ("(empty)", "(vazio)"),
    "treino.loss": ("loss", "perda"),
    "treino.curve_train_loss": ("train", "treino"),
    "treino.curve_eval_loss": ("eval (test split)", "avaliação (parte de teste)"),
    "treino.compare": ("Compare loss curves", "Comparar curvas de perda"),
    "treino.compare_runs": ("Runs to overlay", "Treinos a sobrepor"),
    "treino.x_axis": ("Against", "Em função de"),
    "treino.x_step": ("step", "passo"),
    "treino.x_epoch": ("epoch", "época"),
    "treino.x_tokens_seen": ("tokens seen", "tokens vistos"),
    # -- the OpenAI widgets (ui/openai_treino.py) ----------------------------------------------------
    "treino.openai.wind_down": (
        "OpenAI is winding down fine-tuning: creating fine-tuning jobs is unavailable since {never} to organisations "
        "that never fine-tuned, since {inactive} to those without fine-tuned-model inference in the last 60 days, "
        "and to everyone from {last}. Inference on existing fine-tunes goes on. The Together and Fireworks backends "
        "still take new jobs.",
        "A OpenAI está encerrando o fine-tuning: criar jobs de fine-tuning não é possível desde {never} para "
        "organizações que nunca fizeram fine-tuning, desde {inactive} para as que não usaram inferência de modelos "
        "ajustados nos últimos 60 dias, e para todas a partir de {last}. A inferência em fine-tunes existentes "
        "continua. Os backends Together e Fireworks ainda aceitam jobs novos."),
    "treino.openai.no_prices": ("The price table is empty (page 2): type the model name.",
                                "A tabela de preços está vazia (página 2): digite o nome do modelo."),
    "treino.openai.model": ("OpenAI base model", "Modelo base da OpenAI"),
    "treino.openai.model_label": ("{model} · training {price} per 1M tokens",
                                  "{model} · treino {price} por 1M de tokens"),
    "treino.openai.retired": (" (retired)", " (descontinuado)"),
    "treino.openai.retired_warning": ("{model} is retired: OpenAI may refuse new jobs for it.",
                                      "{model} foi descontinuado: a OpenAI pode recusar novos jobs para ele."),
    "treino.openai.training_file": ("Training file (OpenAI chat JSONL)", "Arquivo de treino (JSONL de chat da OpenAI)"),
    "treino.openai.validation_file": ("Validation file (optional)", "Arquivo de validação (opcional)"),
    "treino.openai.training_file_missing": ("The training file {path} does not exist.",
                                            "O arquivo de treino {path} não existe."),
    "treino.openai.hyper_mode": ("Hyperparameters", "Hiperparâmetros"),
    "treino.openai.hyper_auto": ("auto (OpenAI chooses)", "auto (a OpenAI escolhe)"),
    "treino.openai.hyper_seed": ("the seed study's", "os do estudo original"),
    "treino.openai.hyper_custom": ("set them", "definir"),
    "treino.openai.hyper_seed_caption": (
        "{n_epochs} epochs, batch size {batch_size}, learning rate multiplier {learning_rate_multiplier}.",
        "{n_epochs} épocas, lote {batch_size}, multiplicador da taxa de aprendizado {learning_rate_multiplier}."),
    "treino.openai.n_epochs": ("Epochs", "Épocas"),
    "treino.openai.batch_size": ("Batch size", "Tamanho do lote"),
    "treino.openai.lr_multiplier": ("Learning rate multiplier", "Multiplicador da taxa de aprendizado"),
    "treino.openai.suffix": ("Model name suffix", "Sufixo do nome do modelo"),
    "treino.openai.seed": ("Seed (optional)", "Semente (opcional)"),
    "treino.openai.seed_invalid": ("The seed must be a whole number, not {value!r}.",
                                   "A semente deve ser um número inteiro, não {value!r}."),
    "treino.openai.base_url": ("Requests go to {url} (OPENAI_BASE_URL).", "As requisições vão para {url} (OPENAI_BASE_URL)."),
    "treino.openai.api_key": ("OpenAI API key", "Chave da API da OpenAI"),
    "treino.openai.api_key_help": (
        "Kept only in this browser session and handed to the training process through its environment; never "
        "saved, logged or written to the run folder.",
        "Guardada só nesta sessão do navegador e passada ao processo de treino pelo ambiente; nunca é salva, "
        "registrada em log nem escrita na pasta do treino."),
    "treino.openai.api_key_env": ("Using the key from the OPENAI_API_KEY environment variable.",
                                  "Usando a chave da variável de ambiente OPENAI_API_KEY."),
    "treino.openai.api_key_missing": ("Type an OpenAI API key (or set OPENAI_API_KEY) to launch a job.",
                                      "Digite uma chave da API da OpenAI (ou defina OPENAI_API_KEY) para iniciar um job."),
    "treino.openai.job": ("OpenAI job: {job_id}", "Job da OpenAI: {job_id}"),
    "treino.openai.ft_model": ("Fine-tuned model: {model}", "Modelo ajustado: {model}"),
    "treino.openai.pause": ("Pause", "Pausar"),
    "treino.openai.resume": ("Resume the job", "Retomar o job"),
    "treino.openai.pause_requested": ("Pause requested.", "Pausa pedida."),
    "treino.openai.resume_requested": ("Resume requested.", "Retomada pedida."),
    # -- the Together and Fireworks widgets (ui/treino_hosted.py) ---------------------------------------
    "treino.hosted.model": ("{provider} base model", "Modelo base na {provider}"),
    "treino.hosted.model_label": ("{model} · training {price} per 1M tokens", "{model} · treino {price} por 1M de tokens"),
    "treino.hosted.model_unpriced": ("{model} · training price not in the table",
                                     "{model} · preço de treino fora da tabela"),
    "treino.hosted.model_other": ("Another model (type its id)", "Outro modelo (digite o id)"),
    "treino.hosted.model_text": ("Model id", "Id do modelo"),
    "treino.hosted.n_epochs": ("Epochs", "Épocas"),
    "treino.hosted.learning_rate": ("Learning rate", "Taxa de aprendizado"),
    "treino.hosted.lora_rank": ("LoRA rank (empty: the provider's)", "Rank do LoRA (vazio: o do provedor)"),
    "treino.hosted.suffix": ("Model name suffix", "Sufixo do nome do modelo"),
    "treino.hosted.batch_size": ("Batch size ('max' or a number)", "Tamanho do lote ('max' ou um número)"),
    "treino.hosted.from_checkpoint": ("Continue from (JOB or JOB:STEP, optional)",
                                      "Continuar de (JOB ou JOB:PASSO, opcional)"),
    "treino.hosted.account_id": ("Fireworks account id", "Id da conta na Fireworks"),
    "treino.hosted.account_env": ("Using the account from FIREWORKS_ACCOUNT_ID: {account}.",
                                  "Usando a conta de FIREWORKS_ACCOUNT_ID: {account}."),
    "treino.hosted.account_missing": ("Type the Fireworks account id (or set FIREWORKS_ACCOUNT_ID) to launch a job.",
                                      "Digite o id da conta na Fireworks (ou defina FIREWORKS_ACCOUNT_ID) para iniciar "
                                      "um job."),
    "treino.hosted.warm_start_from": ("Keep training an earlier fine-tune (optional)",
                                      "Continuar treinando um fine-tune anterior (opcional)"),
    "treino.hosted.advanced": ("Advanced: polling", "Avançado: consultas"),
    "treino.hosted.poll_interval_s": ("Seconds between looks at the job", "Segundos entre consultas ao job"),
    "treino.hosted.batch_invalid": ("The batch size must be 'max' or a whole number, not {value!r}.",
                                    "O tamanho do lote deve ser 'max' ou um número inteiro, não {value!r}."),
    "treino.hosted.base_url": ("Requests go to {url} ({variable}).", "As requisições vão para {url} ({variable})."),
    "treino.hosted.api_key": ("{provider} API key", "Chave da API da {provider}"),
    "treino.hosted.api_key_help": (
        "Kept only in this browser session and handed to the training process through its environment; never "
        "saved, logged or written to the run folder.",
        "Guardada só nesta sessão do navegador e passada ao processo de treino pelo ambiente; nunca é salva, "
        "registrada em log nem escrita na pasta do treino."),
    "treino.hosted.api_key_env": ("Using the key from the {variable} environment variable.",
                                  "Usando a chave da variável de ambiente {variable}."),
    "treino.hosted.api_key_secret": ("Using the key {variable} from the app's secrets.",
                                     "Usando a chave {variable} dos segredos do app."),
    "treino.hosted.api_key_missing": ("Type a {provider} API key (or set {variable}) to launch a job.",
                                      "Digite uma chave da API da {provider} (ou defina {variable}) para iniciar um job."),
    "treino.hosted.job": ("{provider} job: {job_id}", "Job na {provider}: {job_id}"),
    "treino.hosted.ft_model": ("Fine-tuned model: {model}", "Modelo ajustado: {model}"),
    "treino.hosted.deploy_needed": (
        "This fine-tune answers only once it is deployed on Fireworks.",
        "Este fine-tune só responde depois de implantado na Fireworks."),
    "treino.hosted.deploy": ("Deploy on Fireworks…", "Implantar na Fireworks…"),
    "treino.hosted.deploy_cost": (
        "Deploying {model} costs money: served per token at its base model's serverless price ({input} in / "
        "{output} out per 1M tokens, prices as of {as_of}), or by the GPU-hour on a dedicated deployment, billed "
        "while it is up even when nobody asks it anything. Undeploy it on Fireworks' dashboard when you are done. "
        "Deploy it now?",
        "Implantar {model} custa dinheiro: servido por token ao preço serverless do modelo base ({input} de entrada / "
        "{output} de saída por 1M de tokens, preços de {as_of}), ou por hora de GPU em uma implantação dedicada, "
        "cobrada enquanto estiver no ar, mesmo sem nenhuma pergunta. Desfaça a implantação no painel da Fireworks "
        "quando terminar. Implantar agora?"),
    "treino.hosted.deploy_cost_unpriced": (
        "Deploying {model} costs money: per token at its base model's serverless price, or by the GPU-hour on a "
        "dedicated deployment, billed while it is up even when nobody asks it anything (see Fireworks' pricing "
        "page). Undeploy it on Fireworks' dashboard when you are done. Deploy it now?",
        "Implantar {model} custa dinheiro: por token ao preço serverless do modelo base, ou por hora de GPU em uma "
        "implantação dedicada, cobrada enquanto estiver no ar, mesmo sem nenhuma pergunta (veja a página de preços "
        "da Fireworks). Desfaça a implantação no painel da Fireworks quando terminar. Implantar agora?"),
    "treino.hosted.deploy_yes": ("Yes, deploy it", "Sim, implantar"),
    "treino.hosted.deploy_no": ("Not now", "Agora não"),
    "treino.hosted.deployed": ("{model} is deployed: it answers on pages 4 and 5.",
                               "{model} está implantado: ele responde nas páginas 4 e 5."),
}
TEXT.update({f"treino.field.{name}": text for name, text in _FIELDS.items()})
TEXT.update({f"treino.status_{name}": text for name, text in _STATUSES.items()})
