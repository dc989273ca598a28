-- Reproduces ../../../../shared/seeds/003_031617e18d327c50.txt (eva_scheduler_heartbeat) exactly.
CREATE TABLE public.eva_scheduler_heartbeat (
  id integer NOT NULL DEFAULT 1,
  instance_id text NOT NULL,
  started_at timestamp with time zone NOT NULL DEFAULT now(),
  last_poll_at timestamp with time zone,
  next_poll_at timestamp with time zone,
  poll_count integer NOT NULL DEFAULT 0,
  dispatch_count integer NOT NULL DEFAULT 0,
  error_count integer NOT NULL DEFAULT 0,
  circuit_breaker_state text DEFAULT 'CLOSED'::text,
  paused_reason text,
  status text NOT NULL DEFAULT 'running'::text,
  metadata jsonb DEFAULT '{}'::jsonb,
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT eva_scheduler_heartbeat_pkey PRIMARY KEY (id),
  CONSTRAINT eva_scheduler_heartbeat_id_check CHECK ((id = 1)),
  CONSTRAINT eva_scheduler_heartbeat_status_check
    CHECK ((status = ANY (ARRAY['running'::text, 'stopping'::text, 'stopped'::text])))
);

ALTER TABLE public.eva_scheduler_heartbeat ENABLE ROW LEVEL SECURITY;

CREATE POLICY eva_scheduler_heartbeat_authenticated_select ON public.eva_scheduler_heartbeat
  FOR SELECT TO authenticated USING (true);
CREATE POLICY eva_scheduler_heartbeat_service_role_all ON public.eva_scheduler_heartbeat
  FOR ALL TO service_role USING (true) WITH CHECK (true);
