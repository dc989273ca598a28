-- Reproduces ../../../../shared/seeds/000_bd44547f510987f5.txt (telemetry_analysis_runs) exactly.
CREATE TABLE public.telemetry_analysis_runs (
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL,
  scope_type text NOT NULL DEFAULT 'workspace'::text,
  scope_id text,
  status text NOT NULL DEFAULT 'QUEUED'::text,
  triggered_by text NOT NULL DEFAULT 'SESSION_START'::text,
  triggered_at timestamp with time zone NOT NULL DEFAULT now(),
  started_at timestamp with time zone,
  finished_at timestamp with time zone,
  correlation_id text,
  output_ref jsonb,
  findings_count integer DEFAULT 0,
  top_bottleneck_category text,
  reason_code text,
  error_class text,
  error_message text,
  duration_ms integer,
  metadata jsonb DEFAULT '{}'::jsonb,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  updated_at timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT telemetry_analysis_runs_pkey PRIMARY KEY (id),
  CONSTRAINT telemetry_analysis_runs_run_id_key UNIQUE (run_id),
  CONSTRAINT telemetry_analysis_runs_scope_type_check
    CHECK ((scope_type = ANY (ARRAY['workspace'::text, 'user'::text, 'global'::text]))),
  CONSTRAINT telemetry_analysis_runs_status_check
    CHECK ((status = ANY (ARRAY['QUEUED'::text, 'RUNNING'::text, 'SUCCEEDED'::text, 'FAILED'::text, 'TIMED_OUT'::text, 'CANCELLED'::text, 'FAILED_ENQUEUE'::text]))),
  CONSTRAINT telemetry_analysis_runs_triggered_by_check
    CHECK ((triggered_by = ANY (ARRAY['SESSION_START'::text, 'MANUAL'::text, 'SCHEDULED'::text, 'CLI'::text])))
);

CREATE INDEX idx_telemetry_runs_active ON public.telemetry_analysis_runs USING btree (scope_type, scope_id, status)
  WHERE (status = ANY (ARRAY['QUEUED'::text, 'RUNNING'::text]));
CREATE INDEX idx_telemetry_runs_correlation ON public.telemetry_analysis_runs USING btree (correlation_id)
  WHERE (correlation_id IS NOT NULL);
CREATE INDEX idx_telemetry_runs_scope_status ON public.telemetry_analysis_runs USING btree (scope_type, scope_id, status, finished_at DESC);

CREATE FUNCTION public.update_telemetry_runs_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$;

CREATE TRIGGER trg_telemetry_runs_updated_at
  BEFORE UPDATE ON public.telemetry_analysis_runs
  FOR EACH ROW EXECUTE FUNCTION public.update_telemetry_runs_updated_at();

ALTER TABLE public.telemetry_analysis_runs ENABLE ROW LEVEL SECURITY;

CREATE POLICY telemetry_analysis_runs_anon_read ON public.telemetry_analysis_runs
  FOR SELECT TO public USING (true);
CREATE POLICY telemetry_analysis_runs_service_all ON public.telemetry_analysis_runs
  FOR ALL TO public USING ((auth.role() = 'service_role'::text));
