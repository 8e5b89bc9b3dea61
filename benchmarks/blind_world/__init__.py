"""An independent synthetic world of 实名不实人 card misuse, written without looking at the job's own generator."""
