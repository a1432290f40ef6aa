"""phonsid.ivector"""
