package tickets

// SetStatementLimit bounds how many prepared statements svc keeps (tests only).
func SetStatementLimit(svc *Service, n int) { svc.stmts.max = n }
