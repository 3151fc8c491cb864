-- custos_abort fails the statement it is evaluated in, with SQLSTATE
-- CU001 and reason as its message, so that a statement of several
-- data-modifying WITH clauses, run on its own (its own transaction), can
-- undo everything it wrote when the outcome is not the one it exists for:
-- the caller then does the change in a transaction of several statements.
-- VOLATILE, so it is never evaluated ahead, only where the CASE reaches it.
CREATE FUNCTION custos_abort(reason TEXT) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION '%', reason USING ERRCODE = 'CU001';
END
$$;
