/** Docker's container name rule (daemon/names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
export const namePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
