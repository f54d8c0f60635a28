package api

import "context"

// GetEncryptionConfig and PutEncryptionConfig.
//
// Roentgen keeps its data on the operator's own disk and has no KMS, so a
// KMS key cannot change how it stores anything: disk encryption does that.
// The setting is still accepted, kept and reported as AWS does, because
// tools that manage X-Ray accounts (Terraform's aws_xray_encryption_config)
// set it and read it back.

const encryptionKey = "encryption"

// awsManagedKey is the key X-Ray uses for Type KMS without a KeyId.
const awsManagedKey = "alias/aws/xray"

type encryptionConfig struct {
	KeyId  string `json:"KeyId,omitempty"`
	Status string
	Type   string
}

func (s *Server) getEncryptionConfig(ctx context.Context, _ *struct{}) (any, error) {
	cfg := encryptionConfig{Type: "NONE"}
	if _, err := s.getMetaJSON(ctx, metaAccount, encryptionKey, &cfg); err != nil {
		return nil, err
	}
	// Nothing is re-encrypted, so a change is in effect at once.
	cfg.Status = "ACTIVE"
	return struct{ EncryptionConfig encryptionConfig }{cfg}, nil
}

func (s *Server) putEncryptionConfig(ctx context.Context, in *struct {
	KeyId *string
	Type  string
}) (any, error) {
	cfg := encryptionConfig{Type: in.Type}
	switch in.Type {
	case "NONE":
		if in.KeyId != nil {
			return nil, invalid("KeyId must be omitted when Type is NONE")
		}
	case "KMS":
		cfg.KeyId = awsManagedKey
		if in.KeyId != nil {
			if len(*in.KeyId) < 1 || len(*in.KeyId) > 3000 {
				return nil, invalid("KeyId must be 1 to 3000 characters long")
			}
			cfg.KeyId = *in.KeyId
		}
	case "":
		return nil, invalid("Type is required (NONE or KMS)")
	default:
		return nil, invalid("Type must be NONE or KMS, not %q", in.Type)
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if err := s.putMetaJSON(ctx, metaAccount, encryptionKey, cfg); err != nil {
		return nil, err
	}
	cfg.Status = "ACTIVE"
	return struct{ EncryptionConfig encryptionConfig }{cfg}, nil
}
