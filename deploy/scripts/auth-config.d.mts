export function authConfigProblems(objects: unknown[], overlay: string): string[];
