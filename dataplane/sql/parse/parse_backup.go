package parse

// This file parses the backup statements (contract C2):
//
//	BACKUP DATABASE TO '<target>'
//	BACKUP NAMESPACE ns TO '<target>'
//	BACKUP VERIFY '<target>' [BACKUP '<id>']
//	SHOW BACKUPS [IN '<target>']
//	RESTORE DATABASE FROM '<target>' [BACKUP '<id>'] [WITH OVERWRITE]
//	RESTORE NAMESPACE ns FROM '<target>' [BACKUP '<id>'] [WITH OVERWRITE]
//	DELETE BACKUP '<id>' IN '<target>'
//	DELETE BACKUPS IN '<target>' KEEP LAST n [MAX AGE '<duration>']

import (
	"strconv"
	"time"
)

// Backup is BACKUP DATABASE|NAMESPACE ns TO 'target'.
type Backup struct {
	// Namespace is "" for BACKUP DATABASE.
	Namespace string
	Target    string
}

// VerifyBackup is BACKUP VERIFY 'target' [BACKUP 'id'].
type VerifyBackup struct {
	Target   string
	BackupID string
}

// ShowBackups is SHOW BACKUPS [IN 'target'].
type ShowBackups struct {
	Target string
}

// Restore is RESTORE DATABASE|NAMESPACE ns FROM 'target' [BACKUP 'id']
// [WITH OVERWRITE].
type Restore struct {
	Namespace string
	Target    string
	BackupID  string
	Overwrite bool
}

// DeleteBackup is DELETE BACKUP 'id' IN 'target'.
type DeleteBackup struct {
	BackupID string
	Target   string
}

// PruneBackups is DELETE BACKUPS IN 'target' KEEP LAST n [MAX AGE 'd'].
type PruneBackups struct {
	Target   string
	KeepLast int
	MaxAge   time.Duration
}

func (*Backup) statementNode()       {}
func (*VerifyBackup) statementNode() {}
func (*ShowBackups) statementNode()  {}
func (*Restore) statementNode()      {}
func (*DeleteBackup) statementNode() {}
func (*PruneBackups) statementNode() {}

// namespaceArg consumes and validates a namespace name.
func (p *parser) namespaceArg(after string) (string, error) {
	name, tok, err := p.ident("namespace name", after)
	if err != nil {
		return "", err
	}
	if err := ValidateName("namespace", name); err != nil {
		return "", withPos(err, tok.Pos)
	}
	return name, nil
}

// backupIDClause consumes an optional BACKUP 'id'.
func (p *parser) backupIDClause() (string, error) {
	if !p.acceptKw("backup") {
		return "", nil
	}
	id, t, err := p.stringArg("backup id", quoteKw("backup"))
	if err == nil && id == "" {
		err = errInput(t.Pos, "backup id must not be empty")
	}
	return id, err
}

// parseBackup handles BACKUP DATABASE|NAMESPACE|VERIFY.
func (p *parser) parseBackup() (Statement, error) {
	p.advance() // BACKUP
	switch {
	case p.acceptKw("verify"):
		st := &VerifyBackup{}
		var err error
		if st.Target, _, err = p.stringArg("backup target", quoteKw("backup", "verify")); err != nil {
			return nil, err
		}
		if st.BackupID, err = p.backupIDClause(); err != nil {
			return nil, err
		}
		return st, p.expectEnd()
	case p.acceptKw("database"):
		st := &Backup{}
		if err := p.expectKw("to", quoteKw("backup", "database")); err != nil {
			return nil, err
		}
		var err error
		if st.Target, _, err = p.stringArg("backup target", quoteKw("to")); err != nil {
			return nil, err
		}
		return st, p.expectEnd()
	case p.acceptKw("namespace"):
		ns, err := p.namespaceArg(quoteKw("backup", "namespace"))
		if err != nil {
			return nil, err
		}
		st := &Backup{Namespace: ns}
		if err := p.expectKw("to", "namespace name"); err != nil {
			return nil, err
		}
		if st.Target, _, err = p.stringArg("backup target", quoteKw("to")); err != nil {
			return nil, err
		}
		return st, p.expectEnd()
	}
	return nil, p.unexpected("DATABASE, NAMESPACE or VERIFY", quoteKw("backup"))
}

// parseRestore handles RESTORE DATABASE|NAMESPACE.
func (p *parser) parseRestore() (Statement, error) {
	p.advance() // RESTORE
	st := &Restore{}
	switch {
	case p.acceptKw("database"):
	case p.acceptKw("namespace"):
		ns, err := p.namespaceArg(quoteKw("restore", "namespace"))
		if err != nil {
			return nil, err
		}
		st.Namespace = ns
	default:
		return nil, p.unexpected("DATABASE or NAMESPACE", quoteKw("restore"))
	}
	if err := p.expectKw("from", quoteKw("restore")); err != nil {
		return nil, err
	}
	var err error
	if st.Target, _, err = p.stringArg("backup target", quoteKw("from")); err != nil {
		return nil, err
	}
	if st.BackupID, err = p.backupIDClause(); err != nil {
		return nil, err
	}
	if p.acceptKw("with") {
		if err := p.expectKw("overwrite", quoteKw("with")); err != nil {
			return nil, err
		}
		st.Overwrite = true
	}
	return st, p.expectEnd()
}

// parseShowBackups handles SHOW BACKUPS [IN 'target'].
func (p *parser) parseShowBackups() (Statement, error) {
	p.pos += 2 // SHOW BACKUPS
	st := &ShowBackups{}
	if p.acceptKw("in") {
		var err error
		if st.Target, _, err = p.stringArg("backup target", quoteKw("in")); err != nil {
			return nil, err
		}
	}
	return st, p.expectEnd()
}

// parseDeleteBackup handles DELETE BACKUP 'id' IN 'target' and DELETE
// BACKUPS IN 'target' KEEP LAST n [MAX AGE 'd'].
func (p *parser) parseDeleteBackup() (Statement, error) {
	p.advance() // DELETE
	if p.acceptKw("backup") {
		st := &DeleteBackup{}
		id, t, err := p.stringArg("backup id", quoteKw("delete", "backup"))
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, errInput(t.Pos, "backup id must not be empty")
		}
		st.BackupID = id
		if err := p.expectKw("in", "backup id"); err != nil {
			return nil, err
		}
		if st.Target, _, err = p.stringArg("backup target", quoteKw("in")); err != nil {
			return nil, err
		}
		return st, p.expectEnd()
	}
	p.advance() // BACKUPS
	st := &PruneBackups{}
	if err := p.expectKw("in", quoteKw("delete", "backups")); err != nil {
		return nil, err
	}
	var err error
	if st.Target, _, err = p.stringArg("backup target", quoteKw("in")); err != nil {
		return nil, err
	}
	if err := p.expectKw("keep", "backup target"); err != nil {
		return nil, err
	}
	if err := p.expectKw("last", quoteKw("keep")); err != nil {
		return nil, err
	}
	nt := p.peek()
	if nt.Kind != TokNumber {
		return nil, p.unexpected("a number", quoteKw("keep", "last"))
	}
	p.advance()
	n, err := strconv.Atoi(nt.Text)
	if err != nil || n < 0 {
		return nil, errInput(nt.Pos, "KEEP LAST needs a non-negative integer, got %s", printable(nt.Text))
	}
	st.KeepLast = n
	if p.acceptKw("max") {
		if err := p.expectKw("age", quoteKw("max")); err != nil {
			return nil, err
		}
		s, t, err := p.stringArg("duration (e.g. '720h')", quoteKw("max", "age"))
		if err != nil {
			return nil, err
		}
		d, derr := time.ParseDuration(s)
		if derr != nil || d <= 0 {
			return nil, errInput(t.Pos, "MAX AGE needs a positive Go duration such as '720h', got '%s'", printable(s))
		}
		st.MaxAge = d
	}
	return st, p.expectEnd()
}
