-- Harmless functions for the gateway's RPC conformance tests (not part of the real schema).
CREATE FUNCTION public.stack_echo(msg text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT msg $$;

CREATE FUNCTION public.server_time() RETURNS timestamp with time zone
LANGUAGE sql STABLE
AS $$ SELECT now() $$;

-- Returns rows, to exercise set-returning RPC; runs with the caller's rights, so RLS applies.
CREATE FUNCTION public.stack_run_counts(p_scope_id text DEFAULT NULL)
RETURNS TABLE (status text, n bigint)
LANGUAGE sql STABLE
AS $$
  SELECT r.status, count(*)::bigint
  FROM public.telemetry_analysis_runs r
  WHERE p_scope_id IS NULL OR r.scope_id = p_scope_id
  GROUP BY r.status
  ORDER BY r.status
$$;
