"""Notification senders (SES e-mail, SNS SMS, SNS staff topics) and the texts they carry."""
