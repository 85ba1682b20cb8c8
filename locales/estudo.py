"""UI text of estudo (page 6, the study as a recipe), English and Portuguese: see locales/__init__.py."""
from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "estudo.run.keys": ("API keys for the hosted steps ({n} not set)", "Chaves de API das etapas hospedadas ({n} não definidas)"),
    "estudo.run.keys_help": (
        "Used by this run only: handed to the study's process, never stored in the database, logs or files. "
        "A step whose key stays empty is skipped, as in the plan above. OPENAI_API_KEY and the others in the "
        "environment or in .streamlit/secrets.toml are used without asking.",
        "Usadas só nesta execução: passadas ao processo do estudo, nunca gravadas no banco, em logs ou arquivos. "
        "Uma etapa cuja chave ficar vazia é pulada, como no plano acima. OPENAI_API_KEY e as outras definidas no "
        "ambiente ou em .streamlit/secrets.toml são usadas sem perguntar."),
    "estudo.title": ("Study recipe", "Receita do estudo"),
    "estudo.intro": (
        "The whole study — data, curation, formats, fine-tunes, evaluation, report — as one text file you can "
        "read, edit, share, diff and run again. Steps whose inputs did not change are reused, not redone.",
        "O estudo inteiro — dados, curadoria, formatos, ajustes finos, avaliação, relatório — em um arquivo de "
        "texto que você pode ler, editar, compartilhar, comparar e rodar de novo. Etapas cujas entradas não "
        "mudaram são reaproveitadas, não refeitas."),
    # (a) export
    "estudo.export.title": ("This study as a recipe", "Este estudo como receita"),
    "estudo.export.help": (
        "What you made by clicking around the current dataset ({dataset}), written as a recipe.",
        "O que você fez clicando em torno do conjunto atual ({dataset}), escrito como receita."),
    "estudo.export.nothing": (
        "There is nothing to export yet: save a curated dataset on page 1 first.",
        "Ainda não há nada para exportar: salve primeiro um conjunto curado na página 1."),
    "estudo.export.download": ("Download the recipe", "Baixar a receita"),
    "estudo.export.show": ("Show the recipe ({lines} lines)", "Mostrar a receita ({lines} linhas)"),
    # (b) open
    "estudo.open.title": ("Open a recipe", "Abrir uma receita"),
    "estudo.open.recipe": ("Recipe", "Receita"),
    "estudo.open.none": ("No recipe found in dados/estudos/: upload one below.",
                         "Nenhuma receita em dados/estudos/: envie uma abaixo."),
    "estudo.open.bundled": ("{name} · bundled", "{name} · incluída"),
    "estudo.open.uploaded": ("{name} · uploaded", "{name} · enviada"),
    "estudo.open.other": ("{name} · {folder}", "{name} · {folder}"),
    "estudo.open.upload": ("…or upload a recipe (.toml)", "…ou envie uma receita (.toml)"),
    "estudo.open.upload_help": (
        "Kept in dados/estudos/ (a file of that name that differs is never overwritten: -2, -3 is added); "
        "relative paths in it are read from that folder.",
        "Guardada em dados/estudos/ (um arquivo de mesmo nome e conteúdo diferente nunca é sobrescrito: "
        "acrescenta-se -2, -3); caminhos relativos nela são lidos a partir dessa pasta."),
    "estudo.open.saved": ("Saved as {path}.", "Salva como {path}."),
    "estudo.open.about": ("**{title}** · study `{name}` · {path}", "**{title}** · estudo `{name}` · {path}"),
    # (c) the steps
    "estudo.plan.title": ("Its steps", "Suas etapas"),
    "estudo.plan.step": ("Step", "Etapa"),
    "estudo.plan.what": ("What it does", "O que faz"),
    "estudo.plan.state": ("Next run", "Na próxima execução"),
    "estudo.plan.reason": ("Why", "Por quê"),
    "estudo.plan.counts": (
        "{run} to run, {reuse} to reuse, {skip} skipped.",
        "{run} a rodar, {reuse} a reaproveitar, {skip} puladas."),
    "estudo.plan.while_running": (
        "It is running now: each step's status is under Run below.",
        "Está rodando agora: a situação de cada etapa está em Rodar, abaixo."),
    "estudo.plan.raw": ("The recipe as text (TOML)", "A receita como texto (TOML)"),
    "estudo.why.new": ("It has not run yet.", "Ainda não rodou."),
    "estudo.why.unchanged": ("Its inputs are unchanged and what it made is there.",
                             "Suas entradas não mudaram e o que ela produziu está lá."),
    "estudo.why.resume": ("It was interrupted or failed last time: it goes on from where it stopped.",
                          "Foi interrompida ou falhou da última vez: continua de onde parou."),
    "estudo.why.gone": ("What it made last time is gone.", "O que ela produziu da última vez não existe mais."),
    "estudo.why.changed": ("Its inputs changed since it last ran.", "Suas entradas mudaram desde a última execução."),
    "estudo.why.after": ("{step} runs first, so this step runs after it.",
                         "{step} roda antes, então esta etapa roda depois dela."),
    "estudo.why.needs": ("It needs a step that has not run yet.", "Ela precisa de uma etapa que ainda não rodou."),
    "estudo.why.no_key": ("Skipped: {variable} is not set (the {backend} fine-tune needs it).",
                          "Pulada: {variable} não está definida (o ajuste fino na {backend} precisa dela)."),
    "estudo.why.run_skipped": ("Skipped: its run was skipped.", "Pulada: a execução dela foi pulada."),
    "estudo.why.no_models": ("Skipped: no model is left to evaluate.", "Pulada: não sobrou modelo para avaliar."),
    "estudo.state.run": ("will run", "vai rodar"),
    "estudo.state.reuse": ("will reuse", "vai reaproveitar"),
    "estudo.state.skip": ("skipped", "pulada"),
    "estudo.kind.data": ("read the raw file and check its fingerprint", "ler o arquivo bruto e conferir sua impressão digital"),
    "estudo.kind.curation": ("clean, filter and split into train/test", "limpar, filtrar e dividir em treino/teste"),
    "estudo.kind.format": ("write a training file in a format", "gravar um arquivo de treino em um formato"),
    "estudo.kind.train": ("fine-tune a model", "ajustar (fine-tune) um modelo"),
    "estudo.kind.checkpoints": ("score every checkpoint of the run", "pontuar cada checkpoint da execução"),
    "estudo.kind.evaluation": ("evaluate the models on the test split", "avaliar os modelos na parte de teste"),
    "estudo.kind.report": ("write the xlsx report", "gravar o relatório xlsx"),
    # (d) run
    "estudo.run.title": ("Run", "Rodar"),
    "estudo.run.start": ("Run the recipe", "Rodar a receita"),
    "estudo.run.start_help": (
        "Runs `python -m core study run` in the background: closing the tab or reloading does not stop it.",
        "Roda `python -m core study run` em segundo plano: fechar a aba ou recarregar não o interrompe."),
    "estudo.run.accept_changed": ("Go on with the changed raw file", "Continuar com o arquivo bruto alterado"),
    "estudo.run.accept_changed_help": (
        "The same as --accept-changed-data: the steps are redone on the file as it is now.",
        "O mesmo que --accept-changed-data: as etapas são refeitas com o arquivo como está agora."),
    "estudo.run.started": ("Study {study} started.", "Estudo {study} iniciado."),
    "estudo.run.stop": ("Stop", "Parar"),
    "estudo.run.stop_help": (
        "Stops the study; running it again goes on from the last finished step.",
        "Interrompe o estudo; rodá-lo de novo continua da última etapa concluída."),
    "estudo.run.stopping": ("Stopping…", "Parando…"),
    "estudo.run.other": (
        "Another study, {study}, is running now ({recipe}).",
        "Outro estudo, {study}, está rodando agora ({recipe})."),
    "estudo.run.overall": ("Step {index} of {total}: {step}", "Etapa {index} de {total}: {step}"),
    "estudo.run.starting": ("Starting…", "Iniciando…"),
    "estudo.run.step_progress": ("{step}: {done} of {of}", "{step}: {done} de {of}"),
    "estudo.run.elapsed": ("Running for {elapsed}.", "Rodando há {elapsed}."),
    "estudo.run.col_step": ("Step", "Etapa"),
    "estudo.run.col_status": ("Status", "Situação"),
    "estudo.run.col_progress": ("Progress", "Progresso"),
    "estudo.run.col_message": ("Message", "Mensagem"),
    "estudo.status.pending": ("· waiting", "· aguardando"),
    "estudo.status.running": ("▶ running", "▶ rodando"),
    "estudo.status.done": ("✓ done", "✓ feita"),
    "estudo.status.reused": ("↺ reused", "↺ reaproveitada"),
    "estudo.status.skipped": ("– skipped", "– pulada"),
    "estudo.status.failed": ("✗ failed", "✗ falhou"),
    "estudo.status.stopped": ("■ stopped", "■ interrompida"),
    "estudo.status.interrupted": ("■ interrupted", "■ interrompida no meio"),
    # the end
    "estudo.end.succeeded": (
        "Finished in {wall}: {done} steps run, {reused} reused, {skipped} skipped.",
        "Concluído em {wall}: {done} etapas rodadas, {reused} reaproveitadas, {skipped} puladas."),
    "estudo.end.failed": ("The study failed after {wall}: {message}", "O estudo falhou após {wall}: {message}"),
    "estudo.end.stopped": (
        "Stopped after {wall}; running it again goes on from the last finished step.",
        "Interrompido após {wall}; rodá-lo de novo continua da última etapa concluída."),
    "estudo.end.lost": (
        "The study's process ended without finishing (killed?); running it again goes on from the last "
        "finished step.",
        "O processo do estudo terminou sem concluir (foi encerrado?); rodá-lo de novo continua da última "
        "etapa concluída."),
    "estudo.end.log": ("The end of its log", "O fim do seu log"),
    "estudo.end.see": ("See the runs on", "Veja as execuções em"),
    "estudo.end.treino": ("3 Training", "3 Treino"),
    "estudo.end.resultados": ("5 Results", "5 Resultados"),
    "estudo.end.last_run": ("Last run of this study", "Última execução deste estudo"),
    # (e) the CLI
    "estudo.cli": (
        "The same from a terminal: `python -m core study run RECIPE` (progress, reuse, go on after a stop), "
        "`python -m core study export --out RECIPE` and `python -m core study diff A B`.",
        "O mesmo no terminal: `python -m core study run RECEITA` (progresso, reaproveitamento, continua após "
        "uma parada), `python -m core study export --out RECEITA` e `python -m core study diff A B`."),
}
