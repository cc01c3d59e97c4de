package parse

// This file parses the cold-tier statements: CREATE/ALTER/DROP STORAGE,
// SHOW STORAGES, STORAGE CHECK, STORAGE FLUSH and STORAGE COMPACT.

import "strings"

// CreateStorage is CREATE STORAGE [IF NOT EXISTS] id TYPE 'filesystem'|'s3'
// followed by KEY 'value' clauses (keys uppercased, PATH normalised to
// BASE_DIRECTORY).
type CreateStorage struct {
	ID          string
	IfNotExists bool
	Type        string
	Options     map[string]string
}

// AlterStorage is ALTER STORAGE id SET KEY 'value' [SET KEY 'value' ...].
type AlterStorage struct {
	ID  string
	Set map[string]string
}

// DropStorage is DROP STORAGE [IF EXISTS] id.
type DropStorage struct {
	ID       string
	IfExists bool
}

// ShowStorages is SHOW STORAGES.
type ShowStorages struct{}

// StorageCheck is STORAGE CHECK id [EXTENDED].
type StorageCheck struct {
	ID       string
	Extended bool
}

// StorageJob is STORAGE FLUSH|COMPACT TABLE t or ... ALL [IN [NAMESPACE] ns].
type StorageJob struct {
	// Verb is "flush" or "compact".
	Verb string
	// Table is set for ... TABLE t; All for ... ALL.
	Table     TableName
	All       bool
	Namespace string
}

func (*CreateStorage) statementNode() {}
func (*AlterStorage) statementNode()  {}
func (*DropStorage) statementNode()   {}
func (*ShowStorages) statementNode()  {}
func (*StorageCheck) statementNode()  {}
func (*StorageJob) statementNode()    {}

// storageOptionKeys are the clauses CREATE/ALTER STORAGE accept.
var storageOptionKeys = map[string]string{
	"name": "NAME", "description": "DESCRIPTION", "path": "BASE_DIRECTORY", "base_directory": "BASE_DIRECTORY",
	"bucket": "BUCKET", "region": "REGION", "shared_tables_template": "SHARED_TABLES_TEMPLATE",
	"user_tables_template": "USER_TABLES_TEMPLATE", "credentials": "CREDENTIALS", "config": "CONFIG",
}

// ValidateStorageID checks a storage id: [A-Za-z0-9_-]+, at most 64 bytes.
func ValidateStorageID(id string) error {
	if id == "" || len(id) > 64 {
		return errInput(-1, "storage id must be 1 to 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isLetter(c) && !isDigit(c) && c != '_' && c != '-' {
			return errInput(-1, "storage id '%s' may contain only letters, digits, '_' and '-'", printable(id))
		}
	}
	return nil
}

// storageID consumes a storage id: identifier, quoted identifier or
// string; a bare id may contain '-' (lexed as separate tokens).
func (p *parser) storageID(after string) (string, error) {
	t := p.peek()
	var id string
	switch t.Kind {
	case TokString, TokQuotedIdent:
		p.advance()
		id = t.Value
	case TokIdent:
		p.advance()
		id = t.Value
		for p.isOp("-") {
			nxt := p.peekAt(1)
			if nxt.Kind != TokIdent && nxt.Kind != TokNumber {
				break
			}
			p.pos += 2
			id += "-" + strings.ToLower(nxt.Text)
		}
	default:
		return "", p.unexpected("storage id", after)
	}
	if err := ValidateStorageID(id); err != nil {
		return "", withPos(err, t.Pos)
	}
	return id, nil
}

func (p *parser) storageOption(after string) (string, string, error) {
	kt := p.peek()
	key, ok := storageOptionKeys[kt.Value]
	if kt.Kind != TokIdent || !ok {
		return "", "", p.unexpected("a storage option (NAME, DESCRIPTION, PATH, BASE_DIRECTORY, BUCKET, REGION, SHARED_TABLES_TEMPLATE, USER_TABLES_TEMPLATE, CREDENTIALS, CONFIG)", after)
	}
	p.advance()
	p.acceptOp("=")
	v, _, err := p.stringArg(strings.ToLower(key), quoteKw(key))
	if err != nil {
		return "", "", err
	}
	return key, v, nil
}

func (p *parser) createStorage() (Statement, error) {
	ifne, err := p.ifNotExists()
	if err != nil {
		return nil, err
	}
	st := &CreateStorage{IfNotExists: ifne, Options: map[string]string{}}
	if st.ID, err = p.storageID(quoteKw("create", "storage")); err != nil {
		return nil, err
	}
	if err := p.expectKw("type", "storage id"); err != nil {
		return nil, err
	}
	p.acceptOp("=")
	tt := p.peek()
	if tt.Kind != TokString && tt.Kind != TokIdent {
		return nil, p.unexpected("storage type ('filesystem' or 's3')", quoteKw("type"))
	}
	p.advance()
	st.Type = strings.ToLower(tt.Value)
	if st.Type != "filesystem" && st.Type != "s3" {
		return nil, errInput(tt.Pos, "unsupported storage type '%s' (want 'filesystem' or 's3')", printable(tt.Value))
	}
	for p.peek().Kind != TokEOF {
		k, v, err := p.storageOption(quoteKw("create", "storage"))
		if err != nil {
			return nil, err
		}
		if _, dup := st.Options[k]; dup {
			return nil, errSQL(p.prev().Pos, "storage option %s given twice", k)
		}
		st.Options[k] = v
	}
	return st, nil
}

func (p *parser) parseAlterStorage() (Statement, error) {
	p.pos += 2 // ALTER STORAGE
	id, err := p.storageID(quoteKw("alter", "storage"))
	if err != nil {
		return nil, err
	}
	st := &AlterStorage{ID: id, Set: map[string]string{}}
	for p.peek().Kind != TokEOF {
		if err := p.expectKw("set", "storage id"); err != nil {
			return nil, err
		}
		k, v, err := p.storageOption(quoteKw("set"))
		if err != nil {
			return nil, err
		}
		st.Set[k] = v
		p.acceptOp(",")
	}
	if len(st.Set) == 0 {
		return nil, p.unexpected("SET", "storage id")
	}
	return st, nil
}

func (p *parser) dropStorage() (Statement, error) {
	st := &DropStorage{IfExists: p.ifExists()}
	id, err := p.storageID(quoteKw("drop", "storage"))
	if err != nil {
		return nil, err
	}
	st.ID = id
	return st, p.expectEnd()
}

// parseStorage handles STORAGE CHECK|FLUSH|COMPACT.
func (p *parser) parseStorage() (Statement, error) {
	p.advance() // STORAGE
	switch {
	case p.acceptKw("check"):
		id, err := p.storageID(quoteKw("storage", "check"))
		if err != nil {
			return nil, err
		}
		st := &StorageCheck{ID: id, Extended: p.acceptKw("extended")}
		return st, p.expectEnd()
	case p.isKw("flush") || p.isKw("compact"):
		verb := p.advance().Value
		st := &StorageJob{Verb: verb}
		switch {
		case p.acceptKw("table"):
			tn, err := p.tableName(quoteKw("storage", verb, "table"))
			if err != nil {
				return nil, err
			}
			st.Table = tn
		case p.acceptKw("all"):
			st.All = true
			if p.acceptKw("in") {
				if p.isKw("namespace") && p.peekAt(1).Kind != TokEOF {
					p.pos++
				}
				name, tok, err := p.ident("namespace name", quoteKw("in"))
				if err != nil {
					return nil, err
				}
				if err := ValidateName("namespace", name); err != nil {
					return nil, withPos(err, tok.Pos)
				}
				st.Namespace = name
			}
		default:
			return nil, p.unexpected("TABLE or ALL", quoteKw("storage", verb))
		}
		return st, p.expectEnd()
	}
	return nil, p.unexpected("CHECK, FLUSH or COMPACT", quoteKw("storage"))
}
