# The commands a person needs; each is a thin wrapper over a script in infra/local.
.PHONY: install up down status test

install: ## install Node 24, pnpm, NATS, Temporal, FerretDB and the workspace packages
	bash infra/local/install.sh

up: install ## start (or heal) the supervised stack: NATS, the Mongo-wire store, Temporal (UI on :8233), the services, the workflows and the gateway; seed a demo region and incidents
	bash -c '. infra/local/lib.sh && use_toolchain && pnpm -s build && pnpm -s infra up'

down: ## stop the supervisor and everything it runs
	bash -c '. infra/local/lib.sh && use_toolchain && pnpm -s infra down'

status: ## each process of the local stack: state, pid, uptime, restarts, health, last exit
	bash -c '. infra/local/lib.sh && use_toolchain && pnpm -s infra status'

test: ## everything CI checks, against real servers
	bash infra/local/test.sh
